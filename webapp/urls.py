from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

from webapp import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("mock/v1/", include("webapp.mockllm.urls")),
]

urlpatterns += i18n_patterns(
    path("", include("webapp.lessons.urls")),
    path("", include("webapp.lab.urls")),
    path("", include("webapp.classroom.urls")),
    prefix_default_language=True,
)
