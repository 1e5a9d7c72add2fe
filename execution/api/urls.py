"""Include under /api/v1/ (mesproject/urls.py)."""

from rest_framework.routers import SimpleRouter

from . import jobs, views

app_name = "execution"

router = SimpleRouter()
router.register("registrations", views.RegistrationViewSet, basename="registration")
router.register("jobs", jobs.JobViewSet, basename="job")

urlpatterns = router.urls
