"""Peers: the GAE, λ-returns, returns-to-go and TD residuals of TorchRL, tianshou,
Stable-Baselines3 and rlax judged by :func:`check_gae`, :func:`check_lambda_returns`,
:func:`check_discounted_returns` and :func:`check_td_residuals` through thin adapters (the
``peers-rl`` extra; each test skips with the reason when its library is absent, so CI's default
run, which installs none of them, skips them all).  Results and library versions:
benchmarks/RESULTS.md, section "Peers".

Every adapter turns the checks' convention — costs, ``values[t] = V(x_t)``,
``next_values[t] = V(x_{t+1})`` of the true next state, ``terminated`` (no bootstrap) and
``truncated`` (bootstrap, no trace across) — into the library's own call and back:

* sign: the libraries maximise rewards, so the adapters pass ``r = −c`` with the values of the
  rewards, ``−V``, and negate the result.  GAE is linear in (costs, values) jointly, so this
  is exact; a slip negating the rewards alone is caught (``test_..._rewards_alone_negated_...``);
* precision: each library computes in its own dtype (float32 for TorchRL's default tensors,
  SB3's buffer and JAX; float64 for tianshou's buffer) and the adapters return that dtype, so
  the check judges the result at the library's precision;
* episode ends: each library marks them its own way (TorchRL ``done``/``terminated``;
  tianshou ``terminated``/``truncated`` in the buffer with ``v_s_`` masked by the former;
  SB3 ``episode_starts`` shifted by one, ``last_values``/``dones`` for the segment's end and a
  truncation bootstrapped by adding ``γ V(terminal_obs)`` to the reward in
  ``OnPolicyAlgorithm.collect_rollouts``; rlax a per-step discount ``γ_t``).

Findings (the tests below pin them): TorchRL's ``vec_generalized_advantage_estimate`` raises
IndexError whenever the scalar γλ is below its 1e-7 truncation threshold (λ = 0, TD(0), among
them); both TorchRL GAEs on float64 tensors are only float32-accurate; rlax's
``truncated_generalized_advantage_estimation`` reads the bootstrap value of step t and the
baseline of step t+1 from one array ``values[t+1]``, so a time-limit truncation inside a
sequence cannot be expressed in one call (its λ-returns, which take ``v_t`` apart, can).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from pgverify import OracleMismatch
from pgverify.checks import (
    check_discounted_returns,
    check_gae,
    check_lambda_returns,
    check_td_residuals,
)

ABSENT = "is not installed (pip install 'pgverify[peers-rl]', docs/checks.md)"


def _torch():
    return pytest.importorskip("torch", reason=f"torch {ABSENT}")


def _torchrl_functional():
    _torch()
    pytest.importorskip("torchrl", reason=f"torchrl {ABSENT}")
    from torchrl.objectives.value import functional

    return functional


def _tianshou_algorithm():
    _torch()
    pytest.importorskip("tianshou", reason=f"tianshou {ABSENT}")
    from tianshou.algorithm.algorithm_base import Algorithm

    return Algorithm


def _sb3_buffers():
    _torch()
    pytest.importorskip("stable_baselines3", reason=f"stable-baselines3 {ABSENT}")
    from stable_baselines3.common import buffers

    return buffers


def _rlax():
    pytest.importorskip("jax", reason=f"jax {ABSENT}")
    return pytest.importorskip("rlax", reason=f"rlax {ABSENT}")


@functools.cache
def _rlax_jitted(name: str, per_step: bool = False) -> Callable[..., Any]:
    """rlax's function ``name`` under ``jax.jit`` (``jax.vmap`` first for a ``per_step`` one,
    written for scalars), as rlax's users call it (compiled once per shape; run eagerly, each
    call re-traces its ``lax.scan``, about 50 times slower)."""
    import jax

    function = getattr(_rlax(), name)
    return jax.jit(jax.vmap(function) if per_step else function)


def needs(loader: Callable[[], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an adapter with the loader of its library (called first by the tests: a skip with the
    reason, before the check runs)."""

    def mark(adapter: Callable[..., Any]) -> Callable[..., Any]:
        adapter.needs = loader  # type: ignore[attr-defined]
        return adapter

    return mark


def _episodes(terminated: np.ndarray, truncated: np.ndarray) -> list[slice]:
    """The segment cut after every episode end (the last piece may be an open episode)."""
    ends = np.flatnonzero(np.asarray(terminated) | np.asarray(truncated))
    starts = [0, *(ends + 1)]
    stops = [*(ends + 1), len(terminated)]
    return [slice(a, b) for a, b in zip(starts, stops, strict=True) if a < b]


# --------------------------------------------------------------------------------------------
# TorchRL: tensors of shape [T, 1] (time at dim −2), float32 by default
# --------------------------------------------------------------------------------------------


def _torchrl_call(estimator, costs, values, next_values, terminated, truncated, gamma, lam, dtype):
    torch = _torch()

    def column(array: np.ndarray, kind: Any = dtype) -> Any:
        return torch.as_tensor(np.asarray(array)).to(kind).reshape(-1, 1)

    done = np.asarray(terminated) | np.asarray(truncated)
    advantage, value_target = estimator(
        gamma,
        lam,
        column(-values),
        column(-next_values),
        column(-costs),
        column(done, torch.bool),
        column(terminated, torch.bool),
    )
    return -advantage.reshape(-1).numpy(), -value_target.reshape(-1).numpy()


@needs(_torchrl_functional)
def torchrl_gae(costs, values, next_values, terminated, truncated, gamma, lam):
    """TorchRL's ``generalized_advantage_estimate`` (a loop over time) on float32 tensors."""
    functional = _torchrl_functional()
    return _torchrl_call(
        functional.generalized_advantage_estimate,
        *(costs, values, next_values, terminated, truncated, gamma, lam),
        _torch().float32,
    )[0]


@needs(_torchrl_functional)
def torchrl_gae_float64(costs, values, next_values, terminated, truncated, gamma, lam):
    functional = _torchrl_functional()
    return _torchrl_call(
        functional.generalized_advantage_estimate,
        *(costs, values, next_values, terminated, truncated, gamma, lam),
        _torch().float64,
    )[0]


@needs(_torchrl_functional)
def torchrl_vec_gae_float64(costs, values, next_values, terminated, truncated, gamma, lam):
    functional = _torchrl_functional()
    return _torchrl_call(
        functional.vec_generalized_advantage_estimate,
        *(costs, values, next_values, terminated, truncated, gamma, lam),
        _torch().float64,
    )[0]


@needs(_torchrl_functional)
def torchrl_vec_gae(costs, values, next_values, terminated, truncated, gamma, lam):
    """TorchRL's ``vec_generalized_advantage_estimate`` (a convolution with (γλ)^k, the terms
    below 1e-7 dropped) on float32 tensors."""
    functional = _torchrl_functional()
    return _torchrl_call(
        functional.vec_generalized_advantage_estimate,
        *(costs, values, next_values, terminated, truncated, gamma, lam),
        _torch().float32,
    )[0]


@needs(_torchrl_functional)
def torchrl_lambda_returns(costs, values, next_values, terminated, truncated, gamma, lam):
    """The value target ``advantage + state_value`` that TorchRL's GAE returns beside it."""
    functional = _torchrl_functional()
    return _torchrl_call(
        functional.generalized_advantage_estimate,
        *(costs, values, next_values, terminated, truncated, gamma, lam),
        _torch().float32,
    )[1]


@needs(_torchrl_functional)
def torchrl_td_lambda_return(costs, values, next_values, terminated, truncated, gamma, lam):
    """TorchRL's ``td_lambda_return_estimate`` (reads ``next_state_value`` only)."""
    torch = _torch()
    functional = _torchrl_functional()

    def column(array: np.ndarray, kind: Any = torch.float32) -> Any:
        return torch.as_tensor(np.asarray(array)).to(kind).reshape(-1, 1)

    done = np.asarray(terminated) | np.asarray(truncated)
    returns = functional.td_lambda_return_estimate(
        gamma,
        lam,
        column(-next_values),
        column(-costs),
        column(done, torch.bool),
        column(terminated, torch.bool),
    )
    return -returns.reshape(-1).numpy()


@needs(_torchrl_functional)
def torchrl_td0(costs, values, next_values, terminated, gamma):
    """TorchRL's ``td0_advantage_estimate`` (``done = terminated``: no truncation here)."""
    torch = _torch()
    functional = _torchrl_functional()

    def column(array: np.ndarray, kind: Any = torch.float32) -> Any:
        return torch.as_tensor(np.asarray(array)).to(kind).reshape(-1, 1)

    advantage = functional.td0_advantage_estimate(
        gamma,
        column(-values),
        column(-next_values),
        column(-costs),
        column(terminated, torch.bool),
        column(terminated, torch.bool),
    )
    return -advantage.reshape(-1).numpy()


@needs(_torchrl_functional)
def torchrl_reward2go(costs, dones, gamma):
    """TorchRL's ``reward2go`` (a convolution with γ^k cut at ``done``) on float32 tensors."""
    torch = _torch()
    functional = _torchrl_functional()
    rewards = torch.as_tensor(-np.asarray(costs), dtype=torch.float32).reshape(-1, 1)
    done = torch.as_tensor(np.asarray(dones), dtype=torch.bool).reshape(-1, 1)
    return -functional.reward2go(rewards, done, gamma).reshape(-1).numpy()


# --------------------------------------------------------------------------------------------
# tianshou: a ReplayBuffer holding the segment, Algorithm.compute_episodic_return on it
# --------------------------------------------------------------------------------------------


def _tianshou_episodic_return(costs, values, next_values, terminated, truncated, gamma, lam):
    """(returns, advantage) of ``Algorithm.compute_episodic_return`` on a buffer holding the
    segment in order.  ``v_s_`` is masked by ``~terminated`` inside tianshou (``value_mask``);
    the buffer's last transition, when no episode ends there, is its ``unfinished_index``, which
    tianshou treats as an end of trace bootstrapped from ``v_s_`` — the segment's open end."""
    Algorithm = _tianshou_algorithm()
    torch = _torch()
    from tianshou.data import Batch, ReplayBuffer

    steps = len(costs)
    buffer = ReplayBuffer(size=steps)
    for t in range(steps):
        buffer.add(
            Batch(
                obs=np.array([float(t)]),
                act=np.array([0.0]),
                rew=-float(costs[t]),
                terminated=bool(terminated[t]),
                truncated=bool(truncated[t]),
                obs_next=np.array([float(t + 1)]),
                info={},
            )
        )
    batch, indices = buffer.sample(0)
    assert np.array_equal(indices, np.arange(steps))  # the segment in order
    returns, advantage = Algorithm.compute_episodic_return(
        batch,
        buffer,
        indices,
        v_s_=torch.as_tensor(-np.asarray(next_values), dtype=torch.float32),
        v_s=torch.as_tensor(-np.asarray(values), dtype=torch.float32),
        gamma=gamma,
        gae_lambda=lam,
    )
    return -returns, -advantage


@needs(_tianshou_algorithm)
def tianshou_gae(costs, values, next_values, terminated, truncated, gamma, lam):
    return _tianshou_episodic_return(costs, values, next_values, terminated, truncated, gamma, lam)[
        1
    ]


@needs(_tianshou_algorithm)
def tianshou_lambda_returns(costs, values, next_values, terminated, truncated, gamma, lam):
    return _tianshou_episodic_return(costs, values, next_values, terminated, truncated, gamma, lam)[
        0
    ]


@needs(_tianshou_algorithm)
def tianshou_discounted_returns(costs, dones, gamma):
    """``compute_episodic_return`` with ``v_s_ = None`` and λ = 1: tianshou's documented way to
    get the Monte-Carlo returns-to-go."""
    Algorithm = _tianshou_algorithm()
    from tianshou.data import Batch, ReplayBuffer

    steps = len(costs)
    buffer = ReplayBuffer(size=steps)
    for t in range(steps):
        buffer.add(
            Batch(
                obs=np.array([float(t)]),
                act=np.array([0.0]),
                rew=-float(costs[t]),
                terminated=bool(dones[t]),
                truncated=False,
                obs_next=np.array([float(t + 1)]),
                info={},
            )
        )
    batch, indices = buffer.sample(0)
    returns, _ = Algorithm.compute_episodic_return(
        batch, buffer, indices, v_s_=None, v_s=np.zeros(steps), gamma=gamma, gae_lambda=1.0
    )
    return -returns


# --------------------------------------------------------------------------------------------
# Stable-Baselines3: a RolloutBuffer filled as OnPolicyAlgorithm.collect_rollouts fills it
# --------------------------------------------------------------------------------------------


def _sb3_rollout(
    costs, values, next_values, terminated, truncated, gamma, lam, *, bootstrap_timeouts=True
):
    """(advantages, returns) of ``RolloutBuffer.compute_returns_and_advantage`` (float32).

    As in ``collect_rollouts``: a truncated step's reward gets ``γ V(terminal_obs)`` added
    (``bootstrap_timeouts``, SB3's timeout handling), ``episode_start[t+1] = done[t]``, and the
    segment's end passes ``last_values`` (the value of the observation after the last step:
    the next episode's first one after an episode end) with ``dones`` of the last step."""
    buffers = _sb3_buffers()
    torch = _torch()
    from gymnasium import spaces

    steps = len(costs)
    space = spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float32)
    buffer = buffers.RolloutBuffer(
        steps, space, space, device="cpu", gae_lambda=lam, gamma=gamma, n_envs=1
    )
    done = np.asarray(terminated) | np.asarray(truncated)
    episode_start = True
    for t in range(steps):
        reward = -float(costs[t])
        if truncated[t] and bootstrap_timeouts:
            reward += gamma * -float(next_values[t])
        buffer.add(
            np.zeros((1, 1), dtype=np.float32),
            np.zeros((1, 1), dtype=np.float32),
            np.array([reward], dtype=np.float32),
            np.array([episode_start]),
            torch.tensor([[-float(values[t])]]),
            torch.zeros(1),
        )
        episode_start = bool(done[t])
    # after an episode end the observation is the next episode's first: any value, unused
    last_value = 0.0 if done[-1] else -float(next_values[-1])
    buffer.compute_returns_and_advantage(torch.tensor([[last_value]]), np.array([done[-1]]))
    return -buffer.advantages[:, 0], -buffer.returns[:, 0]


@needs(_sb3_buffers)
def sb3_gae(costs, values, next_values, terminated, truncated, gamma, lam):
    return _sb3_rollout(costs, values, next_values, terminated, truncated, gamma, lam)[0]


@needs(_sb3_buffers)
def sb3_lambda_returns(costs, values, next_values, terminated, truncated, gamma, lam):
    return _sb3_rollout(costs, values, next_values, terminated, truncated, gamma, lam)[1]


@needs(_sb3_buffers)
def sb3_gae_without_timeout_bootstrap(
    costs, values, next_values, terminated, truncated, gamma, lam
):
    """The buffer alone, a truncation passed as a plain ``done`` (no reward bootstrap)."""
    return _sb3_rollout(
        *(costs, values, next_values, terminated, truncated, gamma, lam), bootstrap_timeouts=False
    )[0]


# --------------------------------------------------------------------------------------------
# rlax: JAX float32, rewards r_{t+1} with per-step discounts γ_{t+1} (Sutton & Barto's indexing)
# --------------------------------------------------------------------------------------------


def _jnp(array: Any) -> Any:
    import jax.numpy as jnp

    return jnp.asarray(np.asarray(array, dtype=np.float32))


@needs(_rlax)
def rlax_gae_per_episode(costs, values, next_values, terminated, truncated, gamma, lam):
    """``truncated_generalized_advantage_estimation`` once per episode piece of the segment:
    ``values`` = the piece's values followed by the value of the true next state, the discount
    γ(1 − terminated) (0 after a termination: no bootstrap)."""
    pieces = []
    for piece in _episodes(terminated, truncated):
        discount = gamma * (1.0 - np.asarray(terminated[piece], dtype=float))
        pieces.append(
            -np.asarray(
                _rlax_jitted("truncated_generalized_advantage_estimation")(
                    _jnp(-costs[piece]),
                    _jnp(discount),
                    lam,
                    _jnp(-np.append(values[piece], next_values[piece][-1])),
                )
            )
        )
    return np.concatenate(pieces)


@needs(_rlax)
def rlax_gae_one_call(costs, values, next_values, terminated, truncated, gamma, lam):
    """The whole segment in one call, as carefully as the API allows: discount γ(1 − terminated)
    (the dm_env convention: 0 at a termination, γ at a truncation), a per-step λ_t = λ(1 −
    truncated) so that no trace crosses a truncation — but the bootstrap of step t must come
    from ``values[t+1]``, the next episode's first state, at a truncation inside the segment."""
    discount = gamma * (1.0 - np.asarray(terminated, dtype=float))
    per_step_lambda = lam * (1.0 - np.asarray(truncated, dtype=float))
    return -np.asarray(
        _rlax_jitted("truncated_generalized_advantage_estimation")(
            _jnp(-costs),
            _jnp(discount),
            _jnp(per_step_lambda),
            _jnp(-np.append(values, next_values[-1])),
        )
    )


@needs(_rlax)
def rlax_lambda_returns(costs, values, next_values, terminated, truncated, gamma, lam):
    """``rlax.lambda_returns`` in one call: it takes the bootstrap values ``v_t`` (= next_values)
    apart from the baselines, so a per-step λ_t = λ(1 − done_t) cuts the trace at every episode
    end and the discount γ(1 − terminated) drops the bootstrap at a termination only."""
    done = np.asarray(terminated) | np.asarray(truncated)
    discount = gamma * (1.0 - np.asarray(terminated, dtype=float))
    return -np.asarray(
        _rlax_jitted("lambda_returns")(
            _jnp(-costs),
            _jnp(discount),
            _jnp(-next_values),
            _jnp(lam * (1.0 - done.astype(float))),
        )
    )


@needs(_rlax)
def rlax_td_learning(costs, values, next_values, terminated, gamma):
    """``rlax.td_learning`` (one transition) mapped over the segment, discount γ(1 − terminated)."""
    discount = gamma * (1.0 - np.asarray(terminated, dtype=float))
    return -np.asarray(
        _rlax_jitted("td_learning", per_step=True)(
            _jnp(-values), _jnp(-costs), _jnp(discount), _jnp(-next_values)
        )
    )


@needs(_rlax)
def rlax_discounted_returns(costs, dones, gamma):
    """``rlax.discounted_returns`` with the discount γ(1 − done) and a zero bootstrap value."""
    discount = gamma * (1.0 - np.asarray(dones, dtype=float))
    return -np.asarray(_rlax_jitted("discounted_returns")(_jnp(-costs), _jnp(discount), _jnp(0.0)))


# --------------------------------------------------------------------------------------------
# The verdicts
# --------------------------------------------------------------------------------------------

PASSING: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (check_gae, torchrl_gae),
    (check_lambda_returns, torchrl_lambda_returns),
    (check_lambda_returns, torchrl_td_lambda_return),
    (check_discounted_returns, torchrl_reward2go),
    (check_td_residuals, torchrl_td0),
    (check_gae, tianshou_gae),
    (check_lambda_returns, tianshou_lambda_returns),
    (check_discounted_returns, tianshou_discounted_returns),
    (check_gae, sb3_gae),
    (check_lambda_returns, sb3_lambda_returns),
    (check_gae, rlax_gae_per_episode),
    (check_lambda_returns, rlax_lambda_returns),
    (check_discounted_returns, rlax_discounted_returns),
    (check_td_residuals, rlax_td_learning),
]
CAMPAIGN_CASES = 1000


def _ids(value: Any) -> str:
    return getattr(value, "__name__", str(value))


@pytest.mark.parametrize(("check", "fn"), PASSING, ids=_ids)
def test_peer_passes_the_default_run(check, fn):
    fn.needs()
    report = check(fn)
    print(report)
    assert report.worst_ratio <= 1


@pytest.mark.slow
@pytest.mark.parametrize(("check", "fn"), PASSING, ids=_ids)
def test_campaign_no_false_alarm_in_1000_generated_cases(check, fn):
    fn.needs()
    report = check(fn, max_examples=CAMPAIGN_CASES, seed=2026)
    print(report)  # recorded in benchmarks/RESULTS.md, section "Peers"
    assert report.generated_cases >= CAMPAIGN_CASES
    assert report.worst_ratio <= 1


def _expected_failure(check: Callable[..., Any], fn: Callable[..., Any], finding: str, **options):
    """Run the check, which must reject ``fn`` with ``finding`` in its report; re-raise the
    mismatch so that a strict xfail records it (a pass, or another failure, fails the test)."""
    fn.needs()
    try:
        check(fn, **options)
    except OracleMismatch as mismatch:
        assert finding in str(mismatch), str(mismatch)
        raise


def _vec_gae_cases() -> list[dict[str, Any]]:
    """Segments of 12 steps with γλ ≥ 0.125 (TorchRL keeps (γλ)^k for k < log(1e-7)/log(γλ):
    7 terms at γλ = 0.125, 11 at 0.25, so its truncation is exercised), consistent
    (``next_values[t] = values[t+1]`` inside episodes), dyadic entries exact in float32."""
    rng = np.random.default_rng(10)
    cases = []
    for gamma, lam in [(0.5, 0.25), (0.5, 0.5), (0.25, 1.0), (0.9, 0.95), (1.0, 1.0), (0.99, 0.5)]:
        for _ in range(4):
            steps = 12
            kinds = rng.choice([0, 0, 0, 1, 2], size=steps)
            terminated, truncated = kinds == 1, kinds == 2
            values = rng.integers(-80, 81, steps) / 8.0
            next_values = rng.integers(-80, 81, steps) / 8.0
            inside = ~(terminated | truncated)[:-1]
            next_values[:-1][inside] = values[1:][inside]
            cases.append(
                {
                    "costs": rng.integers(-80, 81, steps) / 8.0,
                    "values": values,
                    "next_values": next_values,
                    "terminated": terminated,
                    "truncated": truncated,
                    "gamma": gamma,
                    "lam": lam,
                }
            )
    return cases


def test_torchrl_vec_gae_passes_where_gamma_lambda_is_above_its_threshold():
    torchrl_vec_gae.needs()
    report = check_gae(torchrl_vec_gae, cases=_vec_gae_cases(), max_examples=0)
    print(report)
    assert report.worst_ratio <= 1


@pytest.mark.xfail(
    strict=True,
    raises=OracleMismatch,
    reason="TorchRL 0.14.1 finding: vec_generalized_advantage_estimate raises IndexError when "
    "the scalar γλ is below its 1e-7 truncation threshold (λ = 0, TD(0), among them): "
    "_geom_series_like returns an empty or 1-d filter",
)
def test_torchrl_vec_gae_fails_at_lambda_zero():
    _expected_failure(check_gae, torchrl_vec_gae, "raised IndexError")


@pytest.mark.xfail(
    strict=True,
    raises=OracleMismatch,
    reason="TorchRL 0.14.1 finding: generalized_advantage_estimate on float64 tensors is only "
    "float32-accurate (γ·(~terminated).int() and λγ·(~done).int() are float32 tensors: "
    "torch's default dtype)",
)
def test_torchrl_gae_on_float64_tensors_is_float64_accurate():
    _expected_failure(check_gae, torchrl_gae_float64, "equals the right value to float32 accuracy")


@pytest.mark.xfail(
    strict=True,
    raises=OracleMismatch,
    reason="TorchRL 0.14.1 finding: vec_generalized_advantage_estimate on float64 tensors is only "
    "float32-accurate too (γ·(~terminated).int() is a float32 tensor; its (γλ)^k < 1e-7 cut "
    "would also bound it near 1e-7 relative)",
)
def test_torchrl_vec_gae_on_float64_tensors_is_float64_accurate():
    cases = _vec_gae_cases()  # γλ above the threshold: the IndexError of λ = 0 aside
    _expected_failure(
        check_gae,
        torchrl_vec_gae_float64,
        "within float32's tolerance",  # its entries are not float32 numbers: γ rounded inside
        cases=cases,
        max_examples=0,
    )


def test_torchrl_gae_on_float64_tensors_passes_judged_at_float32():
    torchrl_gae_float64.needs()
    assert check_gae(torchrl_gae_float64, dtype="float32").worst_ratio <= 1


@pytest.mark.xfail(
    strict=True,
    raises=OracleMismatch,
    reason="rlax 0.1.9 finding: truncated_generalized_advantage_estimation bootstraps step t and "
    "baselines step t+1 from one array values[t+1], so a truncation inside the sequence cannot be "
    "expressed in one call (split the segment into episodes: rlax_gae_per_episode passes)",
)
def test_rlax_gae_in_one_call_handles_a_truncation_inside_the_segment():
    _expected_failure(check_gae, rlax_gae_one_call, "a bootstrap from values[t+1]")


def test_sb3_buffer_without_the_timeout_bootstrap_is_caught_as_truncation_terminating():
    sb3_gae_without_timeout_bootstrap.needs()
    with pytest.raises(OracleMismatch, match="a truncation treated as a termination"):
        check_gae(sb3_gae_without_timeout_bootstrap)


@needs(_torchrl_functional)
def torchrl_gae_rewards_alone_negated(
    costs, values, next_values, terminated, truncated, gamma, lam
):
    """A sign slip: the rewards −c passed with the values of the *costs*, the result read as is."""
    functional = _torchrl_functional()
    torch = _torch()

    def column(array: np.ndarray, kind: Any = torch.float32) -> Any:
        return torch.as_tensor(np.asarray(array)).to(kind).reshape(-1, 1)

    done = np.asarray(terminated) | np.asarray(truncated)
    advantage, _ = functional.generalized_advantage_estimate(
        gamma,
        lam,
        column(values),
        column(next_values),
        column(-costs),
        column(done, torch.bool),
        column(terminated, torch.bool),
    )
    return advantage.reshape(-1).numpy()


def test_torchrl_with_the_rewards_alone_negated_is_caught_as_the_cost_sign_slip():
    torchrl_gae_rewards_alone_negated.needs()
    with pytest.raises(OracleMismatch, match="the costs negated"):
        check_gae(torchrl_gae_rewards_alone_negated)


@needs(_tianshou_algorithm)
def tianshou_gae_with_one_done_flag(costs, values, next_values, terminated, truncated, gamma, lam):
    """Old gym's single ``done`` stored as ``terminated`` (a time limit then masks ``v_s_``)."""
    ends = np.asarray(terminated) | np.asarray(truncated)
    return tianshou_gae(costs, values, next_values, ends, np.zeros_like(ends), gamma, lam)


def test_tianshou_fed_old_gyms_single_done_is_caught_as_truncation_terminating():
    tianshou_gae_with_one_done_flag.needs()
    with pytest.raises(OracleMismatch, match="a truncation treated as a termination"):
        check_gae(tianshou_gae_with_one_done_flag)
