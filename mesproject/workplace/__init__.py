"""The workplace: what a person meets around the apps (roles and their permissions, sign-in,
home, health, navigation, notifications). It sits above every app: it may import any of them,
none of them imports it (tests/test_layout.py)."""
