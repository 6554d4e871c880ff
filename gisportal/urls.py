from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from gisportal.web import imports
from gisportal.web import views as web
from gisportal.web.forms import LoginForm
from ogc import views as ogc

urlpatterns = [
    path("", web.home, name="home"),
    path("healthz", web.healthz, name="healthz"),
    path("ows", ogc.ows, name="ows"),
    path("wms", ogc.wms_alias, name="wms"),
    path("wfs", ogc.wfs_alias, name="wfs"),
    path("konto/", web.account, name="account"),
    path("konto/logowanie/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("konto/wylogowanie/", auth_views.LogoutView.as_view(), name="logout"),
    path("konto/rejestracja/", web.register, name="register"),
    path("deklaracja-dostepnosci/", web.accessibility, name="accessibility"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("urzad/importy/", imports.import_list, name="import_list"),
    path("urzad/importy/<int:job_id>/", imports.import_detail, name="import_detail"),
    path("api/imports/", imports.api_imports, name="api_imports"),
    path("api/imports/<int:job_id>", imports.api_import, name="api_import"),
]

handler400 = "gisportal.web.views.error_400"
handler403 = "gisportal.web.views.error_403"
handler404 = "gisportal.web.views.error_404"
handler500 = "gisportal.web.views.error_500"
