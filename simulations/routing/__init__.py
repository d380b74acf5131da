"""Model routing (section 32.5): classifiers, policies, the chain that runs them, and how to judge a router.

* :mod:`.book` — the chapter's classifier and selection rules, exactly, and its arithmetic redone;
* :mod:`.classifier` — our classifier (English and Chinese, whole words, tokens);
* :mod:`.policies` — every routing policy and the context-window guard;
* :mod:`.chain` — the ``RunnableBranch`` chain and the cascade, on the mock models;
* :mod:`.traffic`, :mod:`.prompts` — seeded traffic of labelled prompts and documents;
* :mod:`.accounting` — cost, latency and quality of every policy on the same requests;
* :mod:`.routellm` — CPT, APGR and the random-router baseline;
* :mod:`.tool` — one prompt, routed and run: the prompt box.
"""
