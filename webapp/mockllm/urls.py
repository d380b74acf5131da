"""Mounted at /mock/v1/, outside the language prefix: the paths are OpenAI's own."""

from django.urls import path

from . import views

app_name = "mockllm"
urlpatterns = [
    path("chat/completions", views.chat_completions, name="chat_completions"),
    path("models", views.models, name="models"),
]
