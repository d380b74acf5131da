from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "webapp.lessons"
    label = "lessons"
