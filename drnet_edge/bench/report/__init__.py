"""Bench results for people: console tables (:mod:`.tables`), the Markdown report (:mod:`.markdown`) and the
plot of top-1 against latency (:mod:`.plot`)."""
