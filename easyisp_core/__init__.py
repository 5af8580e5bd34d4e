"""EasyISP shared domain: settings, models, repositories, rules and services."""

__version__ = "0.1.0"
