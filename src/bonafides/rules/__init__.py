"""Lists, measures and grades: one rule language, evaluated in Python and compiled to SQL."""
