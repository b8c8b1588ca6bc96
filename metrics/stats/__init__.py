"""The statistics: pure functions over pandas objects, with no Django import.

- ``spc``: XmR charts the NHS England "Making Data Count" way (as NHSRplotthedots implements it), with gaps.
- ``rebase``: suggested rebases where a series seems to have changed (proposals; the manager decides).
- ``compare``: changes on earlier quarters, rolling 12 months, rates, peer and national comparison.
- ``currency``: how old a measure's latest figure is (stale figures are shown, not judged or ranked).
- ``disproportionality``: relative rate index with a 95% confidence interval; recorded share, withheld ratios.
- ``suppression``: small-number suppression and the GSS symbols for public outputs.
- ``presentation``: quarter labels, log ticks, display precision, changes in words.
- ``findings``: the plain-English finding of a measure.
"""
