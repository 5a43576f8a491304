namespace Medic.Server.Runbooks;

/// <summary>How much harm a recipe can do, as its runbook declares.</summary>
public enum Risk { Low, Medium, High }
