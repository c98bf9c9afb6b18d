"""token_agent: runs on the office PC where the PKCS#11 USB token is plugged in.

- :mod:`.pkcs11_access`: load the module, find tokens by label or serial, log in, certificates and keys;
- :mod:`.health`: ``token-agent check``, the token health check (stable ids, PASS/WARN/FAIL/SKIP);
- :mod:`.placement`, :mod:`.appearance`, :mod:`.signing`: prepare drafts and sign them for each step of
  issuing a document (approve, issue, appendix, copy) as Nghị định 30/2020 lays them out;
- :mod:`.verification`: judge the signatures of a PDF (ETSI EN 319 102-1 verdicts); certsvc imports it;
- :mod:`.demo`: a throw-away PKI and SoftHSM tokens for demos and tests; :mod:`.cli`: the command line.

It never imports certsvc.
"""
