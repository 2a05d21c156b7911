"""``drnet-edge verify``: converted models run on aarch64 kernels under qemu-user emulation and compared
with this host (numerics only). See :mod:`drnet_edge.verify.check`."""
