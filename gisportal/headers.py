"""Response headers Django has no setting for. Permissions-Policy: the portal uses no camera, microphone,
location, sensors, payment or USB APIs, so neither it nor anything injected into it may ask for them."""

from __future__ import annotations

from django.conf import settings


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "GISPORTAL_PERMISSIONS_POLICY", "")
        if policy:
            response.headers.setdefault("Permissions-Policy", policy)
        return response
