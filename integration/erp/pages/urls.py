"""Browser pages for IT: the outbox and its dead-letter queue, idempotency keys, job progress.

Included under /it/ by mesproject/urls.py.
"""

from django.urls import path

from integration.erp.pages import views as views

app_name = "it"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/retry/", views.outbox_retry_selected, name="outbox_retry_selected"),
    path("outbox/<int:pk>/", views.outbox_message, name="outbox_message"),
    path("outbox/<int:pk>/retry/", views.outbox_message_retry, name="outbox_message_retry"),
    path("outbox/<int:pk>/cancel/", views.outbox_message_cancel, name="outbox_message_cancel"),
    path("outbox/<int:pk>/fix/", views.outbox_message_fix, name="outbox_message_fix"),
    path("orders/<int:order_id>/messages/", views.order_messages, name="order_messages"),
    path("idempotency-keys/", views.idempotency_keys, name="idempotency_keys"),
    path("idempotency-keys/<int:pk>/", views.idempotency_key, name="idempotency_key"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<str:task_id>/", views.task_progress, name="task_progress"),
    path("tasks/<str:task_id>/status/", views.task_progress_status, name="task_progress_status"),
]
