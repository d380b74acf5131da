from django.apps import AppConfig


class MockLLMConfig(AppConfig):
    name = "webapp.mockllm"
    label = "mockllm"
