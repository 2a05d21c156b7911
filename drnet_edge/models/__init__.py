"""The models, build side (PyTorch): ``backbones`` (the backbone registry), ``drnet`` (the DRNet model),
``macs`` (MACs per resolution), ``checkpoint`` (the checkpoint format and the bundled models),
``runnable`` (PyTorch models behind the deploy side's ``RunnableDRNet``: ``TorchRunnable``, the openers).
"""
