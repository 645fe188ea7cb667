"""LTI 1.3 Advantage: the LMS signs users in, and receives grades and rosters.

django-lti (``lti_tool``) holds registrations, deployments, contexts and our keys; pylti1p3
checks each launch (state, nonce, signature against the platform's JWKS, issuer, audience,
deployment). This package is the glue on the Django side and writes nothing: the writes are in
``grading/services/lti.py``, the pages in ``grading/views/lti.py``, and every outbound call to a
platform (``platform.py``) runs in a task.
"""
