"""LTI writes: launches (``launch``), grades to the LMS (``grades``), rosters from it
(``roster``), dynamic registration (``registration``). Everything the rest of the app uses is
named here."""

from grading.services.lti.grades import (CurrentScore, assignment_maximum, current_score,
                                         deep_link_response, line_item_create_remote,
                                         lti_line_item_ensure, passback_again, passback_queue,
                                         passback_send)
from grading.services.lti.launch import (LaunchOutcome, LaunchRefused, MembershipChange, launch_user,
                                         lti_course_ensure, lti_jwks_forget, lti_launch_sign_in,
                                         lti_membership_set, lti_nonce_spend, lti_nonces_forget,
                                         lti_user_ensure)
from grading.services.lti.registration import lti_dynamic_register
from grading.services.lti.roster import roster_sync_all, roster_sync_request, roster_sync_run

__all__ = [
    "CurrentScore", "LaunchOutcome", "LaunchRefused", "MembershipChange", "assignment_maximum",
    "current_score", "deep_link_response", "launch_user", "line_item_create_remote",
    "lti_course_ensure", "lti_dynamic_register", "lti_jwks_forget", "lti_launch_sign_in",
    "lti_line_item_ensure", "lti_membership_set", "lti_nonce_spend", "lti_nonces_forget",
    "lti_user_ensure", "passback_again", "passback_queue", "passback_send", "roster_sync_all",
    "roster_sync_request", "roster_sync_run",
]
