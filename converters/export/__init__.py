"""The exporters, build side: one module per target and route, each turning one PyTorch module (the
predictor, or the backbone folded to one resolution) into one file, with ``export(module, example, path,
*, int8, quant_views)`` and, for the formats that share weights between entry points,
``export_shared(module, examples, path)``. Each imports PyTorch and its export tools; only
``Target.export``/``Target.export_shared`` import an exporter (by the name its target gives)."""
