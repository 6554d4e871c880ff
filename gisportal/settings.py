"""Settings from environment variables, with working defaults for the local machine."""

from __future__ import annotations

import glob
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("GISPORTAL_STATE_DIR", BASE_DIR / "var"))
STATE_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if os.environ.get("SECRET_KEY_FILE"):  # a container secret (docker/compose.yml)
        return Path(os.environ["SECRET_KEY_FILE"]).read_text().strip()
    path = STATE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def _find_lib(pattern: str) -> str | None:
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib"):
        found = sorted(glob.glob(f"{d}/{pattern}"))
        if found:
            return found[0]
    return None


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
GISPORTAL_PUBLIC_URL = os.environ.get("GISPORTAL_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# where the app's own background work reaches the app (the sandbox gateway's notification): the public URL,
# unless that is not reachable from inside (containers: http://nginx)
GISPORTAL_INTERNAL_URL = os.environ.get("GISPORTAL_INTERNAL_URL", GISPORTAL_PUBLIC_URL).rstrip("/")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
_public_host = GISPORTAL_PUBLIC_URL.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
if _public_host and _public_host not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_public_host)
CSRF_TRUSTED_ORIGINS = [GISPORTAL_PUBLIC_URL.split("/", 3)[0] + "//" + GISPORTAL_PUBLIC_URL.split("/", 3)[2]]

# GDAL and PROJ never reach the network from the web or the workers (read at each use from the environment,
# inherited by the import's child processes): no /vsicurl/-style remote file "exists", PROJ fetches no grids.
# Uploads are opened only by an allow-list of drivers anyway (layers/importing/sniff.py); this is the second wall.
os.environ["CPL_VSIL_CURL_ALLOWED_EXTENSIONS"] = ".gisportal-no-network"
os.environ["PROJ_NETWORK"] = "OFF"
os.environ["GDAL_HTTP_MAX_RETRY"] = "0"
# GDAL fetches some URLs without /vsicurl/ (a GeoJSON "crs" link, a CRS named by URL): its HTTP client is sent
# to a proxy on a closed loopback port, so such a fetch fails at once without leaving this machine
os.environ["GDAL_HTTP_PROXY"] = os.environ["GDAL_HTTPS_PROXY"] = "127.0.0.1:9"
os.environ["GDAL_HTTP_CONNECTTIMEOUT"] = "1"
GDAL_LIBRARY_PATH = os.environ.get("GDAL_LIBRARY_PATH") or _find_lib("libgdal.so*")
GEOS_LIBRARY_PATH = os.environ.get("GEOS_LIBRARY_PATH") or _find_lib("libgeos_c.so*")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "axes",  # login throttling (lockouts and their audit in the admin)
    "gisportal.core",
    "layers",
    "services.offices",
    "services.receipts",
    "services.forms",
    "services.cases",
    "services.payments",
    "services.documents",
    "services.signatures",
    "services.delivery",
    "services.exchange",
    "services.surveys",
    "services.logingov",
    "gisportal.web",
    "gisportal.wiring",  # hands ogc's map renderer to services.documents (services may not import ogc)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gisportal.core.proxy.TrustedProxyMiddleware",  # the client's address from nginx (GISPORTAL_TRUSTED_PROXIES)
    "gisportal.core.replica.ReplicaMiddleware",  # read-only OGC and search traffic to a replica, if configured
    "csp.middleware.CSPMiddleware",  # CONTENT_SECURITY_POLICY below, on every response
    "gisportal.headers.PermissionsPolicyMiddleware",
    "gisportal.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "gisportal.core.apiauth.ApiKeyCsrfMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gisportal.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",  # last (its docs): turns a lockout into our 429 page or problem JSON
]

ROOT_URLCONF = "gisportal.urls"
WSGI_APPLICATION = "gisportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "services.logingov.context.logingov",
            ],
        },
    },
]


def _default_database_url() -> str:
    """The role set-up made (scripts/setup.sh): it owns the database and is no superuser (least privilege)."""
    path = STATE_DIR / "db_password"
    password = path.read_text().strip() if path.exists() else ""
    return f"postgis://gisportal{':' + password if password else ''}@127.0.0.1:5432/gisportal"


_db = dj_database_url.parse(
    os.environ.get("DATABASE_URL") or _default_database_url(),
    engine="django.contrib.gis.db.backends.postgis",
)
_db["ENGINE"] = "django.contrib.gis.db.backends.postgis"
if os.environ.get("DATABASE_PASSWORD_FILE"):  # a container secret (docker/compose.yml)
    _db["PASSWORD"] = Path(os.environ["DATABASE_PASSWORD_FILE"]).read_text().strip()
_db.setdefault("OPTIONS", {})
# psycopg 3 pool: opening a backend costs ~13 ms of PROJ set-up (OGC.md §5.4)
if _env_bool("GISPORTAL_DB_POOL", True):
    _db["OPTIONS"]["pool"] = {"min_size": 1, "max_size": int(os.environ.get("GISPORTAL_DB_POOL_MAX", "8"))}
# a pooled connection is checked as it is handed out (psycopg's check_connection: one round trip): after a
# database restart or a replica's stop the broken ones are replaced, not given to requests that would fail
_db["CONN_HEALTH_CHECKS"] = True
# JIT off: our queries are short, and PostgreSQL's cost model switched it on for WFS pages with
# per-row subplans, adding 20–250 ms of compilation to a 10 ms query (bench/RESULTS.md, WFS)
# and no parallel workers: starting them costs ~8 ms, more than a page of features takes (bench/RESULTS.md)
# a lock wait ends early (a 503 "try again"; `gisportal.middleware`): readers wait for a lock only behind
# schema changes and the first import into an empty table, which holds that table until it commits
_db["OPTIONS"].setdefault(
    "options",
    f"-c statement_timeout={int(os.environ.get('GISPORTAL_STATEMENT_TIMEOUT_MS', '60000'))} "
    f"-c lock_timeout={int(os.environ.get('GISPORTAL_LOCK_TIMEOUT_MS', '5000'))} "
    "-c jit=off -c max_parallel_workers_per_gather=0",
)
# prepared statements only where the code asks for them (`execute(..., prepare=True)`: the tile queries,
# where planning was a third of a small tile's PostgreSQL time). Django turns them off altogether
# (prepare_threshold None, for transaction-pooling proxies), and psycopg then ignores prepare=True too;
# a threshold no query reaches keeps psycopg from preparing anything on its own.
_db["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
_db["TEST"] = {"NAME": os.environ.get("GISPORTAL_TEST_DB", "test_" + _db["NAME"])}
DATABASES = {"default": _db}
# a streaming replica for read-only OGC and search traffic (gisportal/core/replica.py); the primary serves
# everything else, and the reads too while the replica does not answer
if os.environ.get("DATABASE_REPLICA_URL"):
    _replica = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"])
    DATABASES["replica"] = {
        **_db,
        **{k: v for k, v in _replica.items() if k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")},
        # a replica that is away costs a request at most a few seconds (then gisportal/core/replica.py skips it)
        "OPTIONS": {
            **_db["OPTIONS"],
            "connect_timeout": 2,
            **({"pool": {**_db["OPTIONS"]["pool"], "timeout": 3}} if "pool" in _db["OPTIONS"] else {}),
        },
        "TEST": {"MIRROR": "default"},
    }
    if os.environ.get("DATABASE_PASSWORD_FILE") and not _replica.get("PASSWORD"):
        DATABASES["replica"]["PASSWORD"] = _db["PASSWORD"]
GISPORTAL_READ_REPLICA = "replica" in DATABASES  # the router uses it (gisportal/core/replica.py)
DATABASE_ROUTERS = ["gisportal.core.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out client before any password hash
    "gisportal.core.roles.RoleBackend",
]
# Login throttling (django-axes, database handler: AccessAttempt, AccessFailureLog and AccessLog in the
# admin are the audit). Failures count per account from one address (5 lock that account for that
# address only, so nobody can lock a victim out from elsewhere) and per address over all accounts (20
# lock the address: password spraying; higher, as an office's staff share one NAT address). A failure
# during a lockout starts the cool-off again; a successful login clears that account's failures from
# that address, never the address's count. The client is REMOTE_ADDR: X-Forwarded-For is never trusted;
# behind our own reverse proxy, its X-Real-IP is (only from GISPORTAL_TRUSTED_PROXIES: gisportal/core/proxy.py).
AXES_HANDLER = "gisportal.core.throttling.AxesHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("GISPORTAL_LOGIN_FAILURE_LIMIT", "5"))
GISPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("GISPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT", "20"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("GISPORTAL_LOGIN_COOLOFF_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_CLIENT_IP_CALLABLE = "gisportal.core.throttling.client_ip"
AXES_USERNAME_CALLABLE = "gisportal.core.throttling.client_username"
AXES_LOCKOUT_CALLABLE = "gisportal.web.lockout.lockout_response"
AXES_VERBOSE = False  # no banner on every `gisportal` command; failures and lockouts are still logged
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = (
    "after_login"  # a safe `next` wins; else one's own work (gisportal.web.views.after_login)
)
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "pl"
LANGUAGES = [("pl", _("Polish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "gisportal" / "locale"]
TIME_ZONE = "Europe/Warsaw"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("GISPORTAL_STATIC_ROOT", STATE_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("GISPORTAL_MEDIA_ROOT", STATE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# serving from the apps' static folders works without collectstatic (tests, development) but without the
# pre-compressed .gz/.br files; `make demo` runs collectstatic and switches this off
WHITENOISE_USE_FINDERS = _env_bool("GISPORTAL_STATIC_FINDERS", True)
# the OGC API pages' own scripts and styles, with Leaflet and Swagger UI copied there at set-up (vendor/)
STATICFILES_DIRS = [BASE_DIR / "ogc" / "ogcapi" / "static"]

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        # Django's Redis backend, answering as an empty cache while Redis is unreachable (gisportal/cache.py)
        "BACKEND": "gisportal.cache.ResilientRedisCache",
        "LOCATION": os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/1"),
        # a dead or unreachable Redis costs a request at most these (seconds), then the circuit opens
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 2.0},
        "KEY_PREFIX": os.environ.get("GISPORTAL_CACHE_PREFIX", "gisportal"),
    }
}
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/2")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE: dict = {
    "import-jobs-sweep": {"task": "layers.import_jobs_sweep", "schedule": 60.0},
    "harvest-due": {"task": "layers.harvest_due", "schedule": 900.0},
    "receipts-sweep": {"task": "forms.receipts_sweep", "schedule": 120.0},
    "signatures-sweep": {"task": "forms.signatures_sweep", "schedule": 300.0},
    "cases-from-submissions-sweep": {"task": "cases.from_submissions_sweep", "schedule": 120.0},
    "cases-payments-sweep": {"task": "cases.payments_sweep", "schedule": 300.0},
    "payments-pending-poll": {"task": "payments.pending_poll", "schedule": 600.0},
    "payments-reconcile": {"task": "payments.reconcile", "schedule": crontab(hour=5, minute=30)},
    "documents-jobs-sweep": {"task": "documents.jobs_sweep", "schedule": 300.0},
    # deemed deliveries, e-delivery proofs, reminders, retries: daily after midnight (and hourly for the
    # providers' proofs and retries; the job is idempotent, so running it more often changes nothing twice)
    "deliveries-settle": {"task": "delivery.settle", "schedule": crontab(hour=0, minute=5)},
    "deliveries-poll": {"task": "delivery.settle", "schedule": 3600.0},
    "exchange-outbox": {"task": "exchange.outbox_sweep", "schedule": 120.0},
    "surveys-sweep": {"task": "surveys.sweep", "schedule": 600.0},
}
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", False)
GISPORTAL_DEFAULT_NAMESPACE = os.environ.get("GISPORTAL_DEFAULT_NAMESPACE", "PL.PZGiK.1418.EGiB")
# the namespace of the inspireId of the harmonised INSPIRE features (ogc/inspire): the county's EGiB
GISPORTAL_INSPIRE_NAMESPACE = os.environ.get("GISPORTAL_INSPIRE_NAMESPACE", "PL.PZGiK.1418.EGiB")
# office seals for receipts: <dir>/<office code>/{key.pem,cert.pem}; demo seals are generated when missing
GISPORTAL_SEAL_DIR = Path(os.environ.get("GISPORTAL_SEAL_DIR", STATE_DIR / "seals"))
# Off by default: production installs each office's key and certificate (`gisportal seal-rotate`) and
# refuses to start without them (check receipts.E001). `make demo` and the tests turn generation on.
GISPORTAL_SEAL_GENERATE = _env_bool("GISPORTAL_SEAL_GENERATE", False)
# RFC 3161 timestamp authority for sealed PDFs (PAdES B-T): a qualified TSA's URL in production; empty: the
# local TSA under GISPORTAL_SEAL_DIR/_tsa (demo and tests; `python -m services.documents.tsa` serves it)
GISPORTAL_TSA_URL = os.environ.get("GISPORTAL_TSA_URL", "").strip()
# Signature verification (services/signatures/trust.py): trusted roots in anchors/*.pem, trusted lists in
# the EU TSL format in tsl/*.xml (each accepted only when signed by a certificate in tsl/signers/), CRLs in
# crl/. The offices' own seal and timestamp certificates are trusted besides.
GISPORTAL_TRUST_DIR = Path(os.environ.get("GISPORTAL_TRUST_DIR", STATE_DIR / "trust"))
# CRL and OCSP over the network: off by default (the CRL files above are used); when on, only from the
# addresses named in certificates that chain to a trusted root, only on these hosts, with a short timeout
GISPORTAL_REVOCATION_FETCH = os.environ.get("GISPORTAL_REVOCATION_FETCH", "") == "1"
GISPORTAL_REVOCATION_HOSTS = [h for h in os.environ.get("GISPORTAL_REVOCATION_HOSTS", "").split(",") if h]
# Delivery of documents (services/delivery): days after arrival on which an unopened document is recalled
# by e-mail; the e-Doręczenia provider's REST API (empty: the local fake on 127.0.0.1:8096, demo and tests)
GISPORTAL_DELIVERY_REMINDER_DAYS = [
    int(x) for x in os.environ.get("GISPORTAL_DELIVERY_REMINDER_DAYS", "3,7,13").split(",") if x.strip()
]
GISPORTAL_EDORECZENIA_URL = os.environ.get("GISPORTAL_EDORECZENIA_URL", "http://127.0.0.1:8096").rstrip("/")
GISPORTAL_EDORECZENIA_CLIENT_ID = os.environ.get("GISPORTAL_EDORECZENIA_CLIENT_ID", "gisportal-demo")
GISPORTAL_EDORECZENIA_SECRET = os.environ.get("GISPORTAL_EDORECZENIA_SECRET", "demo-secret")
GISPORTAL_EDORECZENIA_TIMEOUT = float(os.environ.get("GISPORTAL_EDORECZENIA_TIMEOUT", "10"))
# Exchange between offices (services/exchange): this hub's name, and the other hubs it exchanges with, as
# JSON: [{"hub": "wgik", "url": "https://wgik.example.pl", "api_key": "<key of our system account there>",
# "offices": [{"code": "wgik-mazowsze", "name": "..."}]}]. An office listed with a peer is reached there,
# even when this hub also has it; any other office of this hub is reached here, without HTTP.
GISPORTAL_EXCHANGE_HUB = os.environ.get("GISPORTAL_EXCHANGE_HUB", "piaseczno")
GISPORTAL_EXCHANGE_PEERS = json.loads(os.environ.get("GISPORTAL_EXCHANGE_PEERS", "[]") or "[]")
GISPORTAL_EXCHANGE_TIMEOUT = float(os.environ.get("GISPORTAL_EXCHANGE_TIMEOUT", "15"))
# Remote OGC sources (layers/sources): the one outbound client's limits; private addresses (loopback, 10/8, ...)
# are refused unless their host is listed here (the demo and the tests read their own hub on 127.0.0.1)
GISPORTAL_SOURCES_TIMEOUT = float(os.environ.get("GISPORTAL_SOURCES_TIMEOUT", "10"))
GISPORTAL_SOURCES_DEADLINE = float(os.environ.get("GISPORTAL_SOURCES_DEADLINE", "30"))
GISPORTAL_SOURCES_MAX_BYTES = int(os.environ.get("GISPORTAL_SOURCES_MAX_BYTES", str(20 * 1024 * 1024)))
GISPORTAL_SOURCES_PRIVATE_HOSTS = [
    h for h in os.environ.get("GISPORTAL_SOURCES_PRIVATE_HOSTS", "").split(",") if h.strip()
]
# cascaded WMS layers (layers/sources/cascade.py): how long a remote map image is kept
GISPORTAL_CASCADE_CACHE_SECONDS = int(os.environ.get("GISPORTAL_CASCADE_CACHE_SECONDS", "300"))
# one GetMap's time for all its cascaded layers together (seconds)
GISPORTAL_CASCADE_BUDGET = float(os.environ.get("GISPORTAL_CASCADE_BUDGET", "30"))
# harvesting remote WFS / OGC API features (layers/sources/harvest.py)
GISPORTAL_HARVEST_PAGE_SIZE = int(os.environ.get("GISPORTAL_HARVEST_PAGE_SIZE", "1000"))
GISPORTAL_HARVEST_MAX_FEATURES = int(os.environ.get("GISPORTAL_HARVEST_MAX_FEATURES", "500000"))
GISPORTAL_HARVEST_RETRIES = int(os.environ.get("GISPORTAL_HARVEST_RETRIES", "3"))
GISPORTAL_HARVEST_BACKOFF = float(os.environ.get("GISPORTAL_HARVEST_BACKOFF", "1.0"))
# Surveyors' materials packages: the buffer around the work area (metres)
GISPORTAL_SURVEY_BUFFER_M = float(os.environ.get("GISPORTAL_SURVEY_BUFFER_M", "50"))
GISPORTAL_REVOCATION_TIMEOUT = float(os.environ.get("GISPORTAL_REVOCATION_TIMEOUT", "3"))
# HTTP status of WMS exception reports for client errors: "200" (as MapServer and GeoServer answer, and as the
# INSPIRE validator requires) or "400"; WFS and OGC API always answer 4xx
GISPORTAL_WMS_EXCEPTION_STATUS = os.environ.get("GISPORTAL_WMS_EXCEPTION_STATUS", "200").strip()
if GISPORTAL_WMS_EXCEPTION_STATUS not in ("200", "400"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("GISPORTAL_WMS_EXCEPTION_STATUS must be 200 or 400")
# an outside orthophoto (or other) WMS under our layers on the map page, e.g. GUGiK's; empty: none
GISPORTAL_ORTHOPHOTO_WMS = os.environ.get("GISPORTAL_ORTHOPHOTO_WMS", "")
GISPORTAL_ORTHOPHOTO_LAYER = os.environ.get("GISPORTAL_ORTHOPHOTO_LAYER", "Raster")
# the map draws parcels and buildings from our vector tiles (PUWG-1992 grid) instead of the WMS
GISPORTAL_MAP_VECTOR_TILES = _env_bool("GISPORTAL_MAP_VECTOR_TILES", False)
# vector tiles kept in Redis by their ETag (an import changes the data version and so every ETag)
GISPORTAL_TILE_CACHE = _env_bool("GISPORTAL_TILE_CACHE", True)
# ULDK (parcels outside our data): the real service https://uldk.gugik.gov.pl/ or the local fake
GISPORTAL_ULDK_URL = os.environ.get("GISPORTAL_ULDK_URL") or None
# Online payments (services/payments): the gateways offered to payers, a comma list of `sandbox` (the
# local test gateway: `make demo` turns it on; never in production) and `przelewy24`; a bank transfer
# booked by a clerk is always possible. Przelewy24: its REST API URL (https://secure.przelewy24.pl, the
# sandbox https://sandbox.przelewy24.pl, or the local fake), merchant and POS ids, REST API key and CRC key.
GISPORTAL_PAYMENT_PROVIDERS = tuple(
    p.strip() for p in os.environ.get("GISPORTAL_PAYMENT_PROVIDERS", "").split(",") if p.strip()
)
GISPORTAL_P24_URL = os.environ.get("GISPORTAL_P24_URL", "https://secure.przelewy24.pl").rstrip("/")
GISPORTAL_P24_MERCHANT_ID = int(os.environ.get("GISPORTAL_P24_MERCHANT_ID", "0") or 0)
GISPORTAL_P24_POS_ID = int(os.environ.get("GISPORTAL_P24_POS_ID", "0") or GISPORTAL_P24_MERCHANT_ID)
GISPORTAL_P24_API_KEY = os.environ.get("GISPORTAL_P24_API_KEY", "")
GISPORTAL_P24_CRC = os.environ.get("GISPORTAL_P24_CRC", "")
GISPORTAL_SANDBOX_KEY = os.environ.get("GISPORTAL_SANDBOX_KEY", "")  # empty: derived from SECRET_KEY
# days to pay a fee calculation document (DOO; county practice, configurable) and a stamp-duty request
# (art. 261 § 1 KPA: 7 days)
GISPORTAL_DOO_DUE_DAYS = int(os.environ.get("GISPORTAL_DOO_DUE_DAYS", "14"))
GISPORTAL_STAMP_DUTY_DUE_DAYS = int(os.environ.get("GISPORTAL_STAMP_DUTY_DUE_DAYS", "7"))
GISPORTAL_IMPORT_DIR = Path(os.environ.get("GISPORTAL_IMPORT_DIR", STATE_DIR / "imports"))
# the reverse proxies whose X-Real-IP names the client (gisportal/core/proxy.py): addresses or networks,
# comma-separated; empty (the default): REMOTE_ADDR as the connection gives it
GISPORTAL_TRUSTED_PROXIES = [
    p for p in os.environ.get("GISPORTAL_TRUSTED_PROXIES", "").split(",") if p.strip()
]
# login.gov.pl (Węzeł Krajowy, services/logingov/config.py): on when the node's URL is set (the simulator, the
# integration or production node, or the local fake node of the demo and tests); the node's signing certificate
# in GISPORTAL_LOGINGOV_NODE_CERT (default <dir>/node-cert.pem); our EC key pair in <dir>/sp-key.pem, sp-cert.pem
GISPORTAL_LOGINGOV_NODE_URL = os.environ.get("GISPORTAL_LOGINGOV_NODE_URL", "").strip().rstrip("/")
GISPORTAL_LOGINGOV_NODE_ENTITY_ID = os.environ.get("GISPORTAL_LOGINGOV_NODE_ENTITY_ID", "").strip()
GISPORTAL_LOGINGOV_DIR = Path(os.environ.get("GISPORTAL_LOGINGOV_DIR", STATE_DIR / "logingov"))
GISPORTAL_LOGINGOV_NODE_CERT = os.environ.get("GISPORTAL_LOGINGOV_NODE_CERT", "").strip()
GISPORTAL_LOGINGOV_ENTITY_ID = os.environ.get("GISPORTAL_LOGINGOV_ENTITY_ID", "").strip()
GISPORTAL_LOGINGOV_LOA = os.environ.get(
    "GISPORTAL_LOGINGOV_LOA", "substantial"
).strip()  # low | substantial | high
GISPORTAL_LOGINGOV_GENERATE = _env_bool("GISPORTAL_LOGINGOV_GENERATE", False)
GISPORTAL_LOGINGOV_TIMEOUT = float(os.environ.get("GISPORTAL_LOGINGOV_TIMEOUT", "10"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if GISPORTAL_PUBLIC_URL.startswith("https://"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # HSTS (sent on HTTPS requests only) and the scheme from the TLS-terminating proxy, which must set
    # X-Forwarded-Proto itself (overwriting what a client sent); both only when the portal is public on https
    SECURE_HSTS_SECONDS = int(os.environ.get("GISPORTAL_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("GISPORTAL_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = _env_bool("GISPORTAL_HSTS_PRELOAD", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every response (django-csp 4): our own scripts and styles only, no inline
# code, no plugins, no framing. Images may also come from the orthophoto WMS under the map. Nothing needs
# more today (the admin and our OGC API templates run under it as it is; tests/e2e/test_csp_browser.py);
# a view that ever does says so with csp.decorators.csp_update, for that view only. Uploaded files are
# served with their own "sandbox" policy (gisportal/core/downloads.py), which this middleware leaves as is.
_ortho = urlsplit(GISPORTAL_ORTHOPHOTO_WMS) if GISPORTAL_ORTHOPHOTO_WMS else None
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": [
            "'self'",
            "data:",
            "blob:",
            *([f"{_ortho.scheme}://{_ortho.netloc}"] if _ortho and _ortho.netloc else []),
        ],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        # the pay button posts here and is redirected to the gateway's page: its origin must be allowed
        "form-action": [
            "'self'",
            *(
                [f"{urlsplit(GISPORTAL_P24_URL).scheme}://{urlsplit(GISPORTAL_P24_URL).netloc}"]
                if "przelewy24" in GISPORTAL_PAYMENT_PROVIDERS
                else []
            ),
        ],
    },
}
GISPORTAL_PERMISSIONS_POLICY = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@piaseczno.invalid")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_TIMEOUT = 10

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # pygeoapi logs every client error with a stack trace; ours are answered as 4xx anyway
    "loggers": {"pygeoapi": {"level": "CRITICAL", "propagate": False, "handlers": ["console"]}},
}

# GDAL 3.6 (Debian 12) cannot block file/network access in spatial references; we never parse
# user-supplied SRS definitions (CRSs are resolved from EPSG codes only), so the warning is silenced.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# Tunables (environment variables of the same names; read here only, the code reads django.conf.settings)
GISPORTAL_IMPORT_MAX_BYTES = int(os.environ.get("GISPORTAL_IMPORT_MAX_BYTES", str(4 * 1024**3)))
GISPORTAL_IMPORT_PROCESSES = int(
    os.environ.get("GISPORTAL_IMPORT_PROCESSES", str(min(2, os.cpu_count() or 1)))
)
GISPORTAL_IMPORT_PARALLEL_MIN_BYTES = int(
    os.environ.get("GISPORTAL_IMPORT_PARALLEL_MIN_BYTES", str(48 * 1024**2))
)
GISPORTAL_IMPORT_FIRST_PART_SHARE = float(
    os.environ.get("GISPORTAL_IMPORT_FIRST_PART_SHARE", "0.33")
)  # of two parts
GISPORTAL_IMPORT_EARLY_MERGE = os.environ.get("GISPORTAL_IMPORT_EARLY_MERGE", "true").lower() not in (
    "0",
    "false",
    "no",
)
GISPORTAL_IMPORT_BULK_MIN_ROWS = int(os.environ.get("GISPORTAL_IMPORT_BULK_MIN_ROWS", "5000"))
GISPORTAL_IMPORT_TRACE = bool(
    os.environ.get("GISPORTAL_IMPORT_TRACE")
)  # any value: log where an import's time goes
GISPORTAL_IMPORT_STATEMENT_TIMEOUT_MS = int(os.environ.get("GISPORTAL_IMPORT_STATEMENT_TIMEOUT_MS", "0"))
GISPORTAL_IMPORT_TEMP_BUFFERS = os.environ.get("GISPORTAL_IMPORT_TEMP_BUFFERS", "1GB")
GISPORTAL_IMPORT_WORK_MEM = os.environ.get("GISPORTAL_IMPORT_WORK_MEM", "64MB")
GISPORTAL_DATA_VERSION_TTL = float(os.environ.get("GISPORTAL_DATA_VERSION_TTL", "1.0"))
GISPORTAL_RENDER_STATEMENT_TIMEOUT_MS = int(os.environ.get("GISPORTAL_RENDER_STATEMENT_TIMEOUT_MS", "15000"))
GISPORTAL_LOCK_TIMEOUT_MS = int(os.environ.get("GISPORTAL_LOCK_TIMEOUT_MS", "5000"))
GISPORTAL_PROJ_DIR = os.environ.get("GISPORTAL_PROJ_DIR", "")  # the system PROJ's proj.db (Mapnik import)
