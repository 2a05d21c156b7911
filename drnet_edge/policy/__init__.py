"""Resolution policies, deploy side (numpy and scipy, no PyTorch).

``spec`` (the deployed rules as small JSON specs, one image's loop), ``registry`` (the policy names,
``Predictions -> Decision``), ``rows`` (eval's result rows, the fixed frontier), ``stats`` (paired
statistics), ``candidates`` (what calibration replays), ``crossfit`` (out-of-fold scoring) and
``selection`` (the calibrated choice), ``deploy`` (which policies a set of converted files can run,
and their default). Nothing here runs a model.
"""
