from django.urls import path

from . import views

app_name = "lab"
urlpatterns = [
    path("lab/<slug:name>/", views.component, name="component"),
]
