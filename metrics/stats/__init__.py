"""The statistics: pure functions over pandas objects, with no Django import.

- ``spc``: XmR charts the NHS England "Making Data Count" way (as NHSRplotthedots implements it).
- ``compare``: changes on earlier quarters, rolling 12 months, rates, peer and national comparison.
- ``disproportionality``: relative rate index with a 95% confidence interval.
- ``suppression``: small-number suppression and the GSS symbols for public outputs.
"""
