"""The app itself: its ConfigMaps and Secret, the pod, the blue/green colors
with their autoscaling, and the switch gate and promotion checks that guard
a move of live traffic."""
