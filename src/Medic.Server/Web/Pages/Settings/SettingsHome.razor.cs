using Medic.Server.Web.Shared;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>The settings sections the caller's role can use.</summary>
public partial class SettingsHome : ConsolePage;
