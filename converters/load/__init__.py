"""The loaders, deploy side: one module per runtime, each running converted files with numpy and that
runtime's package only (``load(path, threads, entry) -> Runner``, ``describe(path, threads, entry)``).
No loader imports PyTorch or an export tool, not even inside a function (an AST test in
tests/test_deploy_side.py holds them to it); ExecuTorch's loader is the one exception for torch, which
ExecuTorch's own Python runtime imports and takes tensors of."""
