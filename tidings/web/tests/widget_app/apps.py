from django.apps import AppConfig


def weather(request) -> dict:
    """Return a one-bar chart, read from the request's workspace (its slug is the label)."""
    from tidings.ui.charts import Datum, bar_chart

    chart = bar_chart(
        [Datum(f"sunny-in-{request.workspace.slug}", 3)],
        title="Weather",
        value_label="Days",
        empty_message="No weather yet.",
    )
    return {"chart": chart}


class WidgetAppConfig(AppConfig):
    name = "tidings.web.tests.widget_app"
    label = "widget_app"

    def ready(self):
        from tidings.ui.dashboard import Widget, register_widget

        register_widget(
            Widget("widget_app.weather", "Weather", "web/widgets/chart.html", weather, "workspace:view", order=5)
        )
