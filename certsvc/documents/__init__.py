"""Electronic documents (issue 12): outgoing documents from draft to issue and recall, incoming ones from
arrival to direction, the number registers, and the server's check of every signature it receives.

- :mod:`.access`: who reaches a document (its drafting unit and its issuing body);
- :mod:`.transitions`: the lifecycle table and the one function that moves a document's status;
- :mod:`.drafting`, :mod:`.review`, :mod:`.register`, :mod:`.signing`, :mod:`.publishing`: the five steps
  (draft, review, leader's signature, number and organisation's signature, sending);
- :mod:`.files`: uploads and the stored versions; :mod:`.verification`: the warm signature verifier;
- :mod:`.incoming`: documents received; :mod:`.report`: the seeds' targets per unit.

Secret documents (Mật, Tối mật, Tuyệt mật) never have a file here: only their register entry.
"""
