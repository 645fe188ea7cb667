// Dynamic registration is done: tell the LMS that opened us (LTI DR 1.0, "org.imsglobal.lti.close").
document.addEventListener("DOMContentLoaded", () => {
  (window.opener || window.parent).postMessage({subject: "org.imsglobal.lti.close"}, "*");
});
