"""Case register, case signs, states and transitions, KPA deadlines, timeline and tracking."""
