"""`/api/v1/analytics/…` (config.urls puts them before livechat's API, whose last pattern answers
any other path 404)."""

from django.urls import path

from analytics import api

app_name = "analytics-api"
urlpatterns = [
    path("summary", api.summary, name="summary"),
    path("timeseries", api.timeseries, name="timeseries"),
    path("heatmap", api.heatmap, name="heatmap"),
    path("operators", api.operators, name="operators"),
    path("funnel", api.funnel, name="funnel"),
]
