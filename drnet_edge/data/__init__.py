"""Images and labels: ``preprocess`` (the one preprocessing rule), ``classes`` (class lists),
``folders`` (image folders, folds, the bundled sample, the multi-resolution dataset): deploy side,
no PyTorch. ``augment`` (training-time augmentation) is build side.
"""
