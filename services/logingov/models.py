"""What a sign-in with login.gov.pl leaves: the node's session of a portal session (for single logout both
ways) and the artifacts and assertions already used (each is good once)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NodeSession(models.Model):
    """A portal session opened by the node's assertion: the node's NameID and SessionIndex, so that a logout
    at the node ends this session and a logout here ends the node's."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="node_sessions")
    session_key = models.CharField(max_length=64, db_index=True)
    name_id = models.CharField(max_length=200, db_index=True)
    name_id_format = models.CharField(max_length=200, blank=True)
    session_index = models.CharField(max_length=200, blank=True)
    loa = models.CharField(max_length=12)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=10, blank=True)  # "portal" | "node"

    class Meta:
        verbose_name = _("login.gov.pl session")
        verbose_name_plural = _("login.gov.pl sessions")

    def __str__(self) -> str:
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M}"


class UsedToken(models.Model):
    """An artifact or an assertion ID already accepted (its SHA-256): the second use is a replay."""

    digest = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10)  # "artifact" | "assertion"
    used_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:12]}"
