"""Tabular Q-learning with epsilon-greedy exploration (Watkins; Sutton & Barto 6.5).

    Q(s, a) <- Q(s, a) + alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))

with the bootstrap term dropped at the end of an episode. The agent explores with
probability epsilon, which decays by `epsilon_decay` after each episode down to
`epsilon_min`; greedy ties go to the lowest action index, so a policy is reproducible.
Environments are small: `reset(rng)` gives the first state, `step(action)` the next state,
the reward and whether the episode ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Environment(Protocol):
    n_states: int
    n_actions: int

    def reset(self, rng: np.random.Generator) -> int: ...

    def step(self, action: int) -> tuple[int, float, bool]: ...


@dataclass
class QLearner:
    n_states: int
    n_actions: int
    alpha: float
    gamma: float
    epsilon: float
    epsilon_decay: float
    epsilon_min: float
    rng: np.random.Generator

    def __post_init__(self) -> None:
        self.q = np.zeros((self.n_states, self.n_actions))
        self.visits = np.zeros((self.n_states, self.n_actions), dtype=np.int64)

    def act(self, state: int) -> int:
        explore = self.rng.random() < self.epsilon
        random_action = int(self.rng.integers(self.n_actions))  # drawn always: fixed stream
        return random_action if explore else int(np.argmax(self.q[state]))

    def learn(self, state: int, action: int, reward: float, next_state: int,
              done: bool) -> None:
        target = reward if done else reward + self.gamma * float(self.q[next_state].max())
        self.q[state, action] += self.alpha * (target - self.q[state, action])
        self.visits[state, action] += 1

    def end_episode(self) -> None:
        self.epsilon = max(self.epsilon_min, self.epsilon * self.epsilon_decay)

    def policy(self) -> np.ndarray:
        """The greedy action of every state."""
        return np.argmax(self.q, axis=1)


def train(env: Environment, learner: QLearner, episodes: int,
          max_steps: int | None = None) -> list[float]:
    """Run `episodes` episodes; returns each episode's total reward."""
    totals = []
    for _ in range(episodes):
        state = env.reset(learner.rng)
        total, steps, done = 0.0, 0, False
        while not done:
            action = learner.act(state)
            next_state, reward, done = env.step(action)
            steps += 1
            if max_steps is not None and steps >= max_steps:
                done = True
            learner.learn(state, action, reward, next_state, done)
            total += reward
            state = next_state
        learner.end_episode()
        totals.append(total)
    return totals
