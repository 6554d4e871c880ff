from django.apps import AppConfig


class LoginGovConfig(AppConfig):
    name = "services.logingov"
    label = "logingov"
    verbose_name = "login.gov.pl"
