"""Matrix-calculus proofs valid for every n and m (tier exact): a small noncommutative algebra
of matrix words, traces and Lyapunov operators (:mod:`.algebra`), the rules a proof applies
(:mod:`.rules`), instantiation at concrete sizes (:mod:`.evaluate`), the LQR problem with its
definitions (:mod:`.problem`) and the LQR proofs registered as derivations (:mod:`.lqr`;
docs/derivations.md)."""
