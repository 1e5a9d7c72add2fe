"""Browser pages: the operator terminal, mounted under /terminal/."""

from django.urls import path

from . import views_terminal as views

app_name = "terminal"

urlpatterns = [
    path("", views.home, name="home"),
    path("<str:code>/", views.terminal, name="terminal"),
    path("<str:code>/sign-in/", views.sign_in, name="sign_in"),
    path("<str:code>/done/", views.sign_out, name="sign_out"),
    path("<str:code>/recent/", views.recent, name="recent"),
    path("<str:code>/clock-in/", views.clock_in, name="clock_in"),
    path("<str:code>/clock-out/", views.clock_out, name="clock_out"),
    path("<str:code>/break/start/", views.break_start, name="break_start"),
    path("<str:code>/break/end/", views.break_stop, name="break_stop"),
    path("<str:code>/absence/", views.absence, name="absence"),
    path("<str:code>/indirect/", views.indirect_start, name="indirect_start"),
    path("<str:code>/indirect/stop/", views.indirect_stop, name="indirect_stop"),
    path("<str:code>/jobs/bundle/", views.bundle_start, name="bundle_start"),
    path("<str:code>/jobs/<int:job_id>/start/", views.job_start, name="job_start"),
    path("<str:code>/jobs/<int:job_id>/stop/", views.job_stop, name="job_stop"),
    path("<str:code>/jobs/<int:job_id>/progress/", views.progress, name="progress"),
    path("<str:code>/jobs/<int:job_id>/finish/", views.finish, name="finish"),
]
