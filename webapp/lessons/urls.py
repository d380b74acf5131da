from django.urls import path

from . import views

app_name = "lessons"
urlpatterns = [
    path("", views.home, name="home"),
    path("sections/<str:number>/", views.section, name="section"),
    path("lessons/<slug:slug>/", views.lesson, name="lesson"),
]
