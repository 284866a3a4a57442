from django.urls import path

from livechat.console.settings import audit_views, canned, labels, views

app_name = "settings"
urlpatterns = [
    path("", views.index, name="index"),
    path("hours/", views.hours, name="hours"),
    path("holidays/", views.holidays, name="holidays"),
    path("holidays/<int:holiday_id>/delete/", views.delete_holiday, name="delete-holiday"),
    path("holidays/thai/<int:year>/", views.load_thai_holidays, name="load-thai-holidays"),
    path("service/", views.service_settings, name="service"),
    path("capacity/", views.capacity, name="capacity"),
    path("sla/", views.sla, name="sla"),
    path("audit/", audit_views.audit_log, name="audit"),
    path("audit/export.csv", audit_views.export_csv, name="audit-export"),
    path("canned/", canned.canned_responses, name="canned"),
    path("canned/<int:canned_id>/", canned.canned_responses, name="edit-canned"),
    path("canned/<int:canned_id>/delete/", canned.delete_canned_response, name="delete-canned"),
    path("labels/", labels.labels, name="labels"),
    path("labels/<int:label_id>/", labels.edit_label, name="edit-label"),
    path("labels/<int:label_id>/delete/", labels.delete_label, name="delete-label"),
]
