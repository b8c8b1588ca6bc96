"""Dashboards: home, overview, priority, metric and fairness pages."""
