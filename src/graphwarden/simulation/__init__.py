"""Simulation: the synthetic population, app agents and scenarios."""

from graphwarden.simulation.population import Population, generate_population

__all__ = ["Population", "generate_population"]
