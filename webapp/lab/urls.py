from django.urls import path

from . import route_tool, views

app_name = "lab"
urlpatterns = [
    path("lab/<slug:name>/", views.component, name="component"),
    path("tools/route/", route_tool.route, name="route-tool"),
]
