"""Working-time calendar: official holidays and make-up days, working hours, time-limit clocks.

`sources` says which days are working days (chinese-calendar plus admin overrides);
`rules` turns that into deadlines, elapsed working time and warning fractions. Both are pure:
no database, no clock of their own.
"""
