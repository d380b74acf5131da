from django.urls import path

from . import views

app_name = "classroom"
urlpatterns = [
    path("accounts/login/", views.login, name="login"),
    path("accounts/logout/", views.logout, name="logout"),
    path("classroom/", views.room_list, name="rooms"),
    path("classroom/start/", views.start, name="start"),
    path("classroom/<str:code>/", views.instructor, name="instructor"),
    path("classroom/<str:code>/metrics/", views.metric_options, name="metric_options"),
    path("classroom/<str:code>/projector/", views.projector, name="projector"),
    path("classroom/<str:code>/summary/", views.room_summary, name="summary"),
    path("classroom/<str:code>/summary.csv", views.summary_csv, name="summary_csv"),
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join, name="join_code"),
    path("room/<str:code>/", views.student, name="student"),
    path("room/<str:code>/result/", views.room_result, name="room_result"),
]
