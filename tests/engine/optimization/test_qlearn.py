"""Q-learning learns the optimal policy of a small environment with a known answer."""

from __future__ import annotations

import numpy as np

from engine.optimize.qlearn import QLearner, train


class Chain:
    """States 0..4 on a line; action 0 steps left, 1 steps right. Leaving state 0 to the
    left pays 1 and ends the episode; reaching state 4 pays 10 and ends it. Every other
    step pays -0.1. With gamma 0.9 the optimal policy walks right from every state."""

    n_states, n_actions = 5, 2

    def reset(self, rng):
        self.s = int(rng.integers(0, 4))
        return self.s

    def step(self, action):
        if action == 0:
            if self.s == 0:
                return 0, 1.0, True
            self.s -= 1
            return self.s, -0.1, False
        self.s += 1
        if self.s == 4:
            return 4, 10.0, True
        return self.s, -0.1, False


def value_iteration(gamma: float) -> np.ndarray:
    q = np.zeros((5, 2))
    for _ in range(500):
        new = np.zeros_like(q)
        for s in range(4):
            new[s, 0] = 1.0 if s == 0 else -0.1 + gamma * q[s - 1].max()
            new[s, 1] = 10.0 if s == 3 else -0.1 + gamma * q[s + 1].max()
        q = new
    return q


def test_learns_the_optimal_policy_of_a_chain():
    exact = value_iteration(0.9)
    learner = QLearner(5, 2, alpha=0.2, gamma=0.9, epsilon=1.0, epsilon_decay=0.99,
                       epsilon_min=0.05, rng=np.random.default_rng(0))
    train(Chain(), learner, episodes=2000, max_steps=100)
    assert list(learner.policy()[:4]) == list(np.argmax(exact[:4], axis=1)) == [1, 1, 1, 1]
    # The learned values of the optimal actions approach the exact ones.
    np.testing.assert_allclose(learner.q[:4, 1], exact[:4, 1], rtol=0.05)


def test_a_trap_near_the_start_is_learned_too():
    """With gamma 0.1 the far reward is worth little: leaving left from state 0 is best,
    and from state 3 stepping right."""
    exact = value_iteration(0.1)
    learner = QLearner(5, 2, alpha=0.2, gamma=0.1, epsilon=1.0, epsilon_decay=0.99,
                       epsilon_min=0.05, rng=np.random.default_rng(1))
    train(Chain(), learner, episodes=3000, max_steps=100)
    assert list(learner.policy()[:4]) == list(np.argmax(exact[:4], axis=1))


def test_seeded_training_repeats():
    def run():
        learner = QLearner(5, 2, alpha=0.2, gamma=0.9, epsilon=1.0, epsilon_decay=0.99,
                           epsilon_min=0.05, rng=np.random.default_rng(4))
        totals = train(Chain(), learner, episodes=200, max_steps=100)
        return learner.q.copy(), totals

    (q1, t1), (q2, t2) = run(), run()
    np.testing.assert_array_equal(q1, q2)
    assert t1 == t2
