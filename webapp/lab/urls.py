from django.urls import path

from . import token_tool, views

app_name = "lab"
urlpatterns = [
    path("lab/<slug:name>/", views.component, name="component"),
    path("tools/tokens/", token_tool.tokens, name="tokens-tool"),
]
