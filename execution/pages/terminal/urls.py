"""Browser pages: the operator terminal, mounted under /terminal/."""

from django.urls import path

from . import clocking, jobs, screens

app_name = "terminal"

urlpatterns = [
    path("", screens.home, name="home"),
    path("<str:code>/", screens.terminal, name="terminal"),
    path("<str:code>/sign-in/", screens.sign_in, name="sign_in"),
    path("<str:code>/done/", screens.sign_out, name="sign_out"),
    path("<str:code>/recent/", screens.recent, name="recent"),
    path("<str:code>/clock-in/", clocking.clock_in, name="clock_in"),
    path("<str:code>/clock-out/", clocking.clock_out, name="clock_out"),
    path("<str:code>/break/start/", clocking.break_start, name="break_start"),
    path("<str:code>/break/end/", clocking.break_stop, name="break_stop"),
    path("<str:code>/absence/", clocking.absence, name="absence"),
    path("<str:code>/indirect/", clocking.indirect_start, name="indirect_start"),
    path("<str:code>/indirect/stop/", clocking.indirect_stop, name="indirect_stop"),
    path("<str:code>/jobs/bundle/", jobs.bundle_start, name="bundle_start"),
    path("<str:code>/jobs/<int:job_id>/start/", jobs.job_start, name="job_start"),
    path("<str:code>/jobs/<int:job_id>/stop/", jobs.job_stop, name="job_stop"),
    path("<str:code>/jobs/<int:job_id>/progress/", jobs.progress, name="progress"),
    path("<str:code>/jobs/<int:job_id>/finish/", jobs.finish, name="finish"),
]
