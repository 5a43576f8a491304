using System.Text.RegularExpressions;
using Medic.Server.Hosting;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Architecture;

/// <summary>
/// The capability folders of Medic.Server depend on each other top-down (docs/architecture.md,
/// "Source layout"): a folder uses another through <c>using Medic.Server.X</c> or a qualified name
/// such as <c>Fleet.NodeStore</c>, read from the source files.
/// </summary>
public sealed partial class FolderGraphTests
{
    /// <summary>
    /// Edges that still close a cycle, each with why it is tolerated. The list only shrinks: remove an
    /// entry once its edge is gone, and never add one to make a new cycle pass.
    /// </summary>
    private static readonly Dictionary<(string From, string To), string> KnownBackEdges = new()
    {
        [("Audit", "Auth")] = "the audit endpoints and middleware read the caller (Caller, Permission); Auth writes audit entries",
        [("Tenancy", "Auth")] = "creating a tenant creates its first admin through Auth's Accounts; Accounts reads tenants",
    };

    [Fact]
    public void Common_depends_on_no_other_folder()
    {
        Graph()["Common"].ShouldBeEmpty();
    }

    [Fact]
    public void Storage_depends_only_on_Common()
    {
        Graph()["Storage"].ToArray().ShouldBe(new[] { "Common" });
    }

    [Fact]
    public void Only_the_composition_root_uses_Hosting()
    {
        var users = Graph().Where(kv => kv.Key != "Hosting" && kv.Value.Contains("Hosting")).Select(kv => kv.Key).ToList();
        users.ShouldBeEmpty("Hosting/ composes the capabilities; what they share belongs in Common/");
    }

    [Fact]
    public void The_folder_graph_has_no_cycle_but_the_known_ones()
    {
        var graph = Graph();
        var edges = graph.ToDictionary(kv => kv.Key, kv => kv.Value.Where(to => !KnownBackEdges.ContainsKey((kv.Key, to))).ToList());
        var cycle = FindCycle(edges);
        cycle.ShouldBeNull($"a folder cycle: {string.Join(" -> ", cycle ?? [])}; let the lower capability own a small interface the higher one implements");
    }

    [Fact]
    public void Every_known_back_edge_still_exists()
    {
        var graph = Graph();
        foreach (var (from, to) in KnownBackEdges.Keys)
        {
            graph[from].ShouldContain(to, $"{from} -> {to} is gone: remove it from {nameof(KnownBackEdges)}");
        }
    }

    [Fact]
    public void The_graph_reader_sees_using_directives_and_qualified_names()
    {
        var types = TypesByFolder();
        Uses("Incidents", "using Medic.Server.Fleet;\nnamespace Medic.Server.Incidents;", types).ToArray().ShouldBe(new[] { "Fleet" });
        Uses("Gateway", "var x = http.RequestServices.GetRequiredService<Detection.Monitors.MonitorPusher>();", types).ToArray().ShouldBe(new[] { "Detection" });
        Uses("Common", "string Path => Audit.CheckpointKeyFile; // Audit.AuditLog in a comment", types).ShouldBeEmpty();
    }

    private static Dictionary<string, SortedSet<string>> Graph()
    {
        var root = Path.Combine(Repository.Root(), "src", "Medic.Server");
        var types = TypesByFolder();
        var graph = Directory.GetDirectories(root)
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj"))
            .ToDictionary(name => name!, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var folder in graph.Keys)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                graph[folder].UnionWith(Uses(folder, File.ReadAllText(file), types));
            }
        }

        return graph;
    }

    /// <summary>The folders other than <paramref name="folder"/> that <paramref name="source"/> uses.</summary>
    private static SortedSet<string> Uses(string folder, string source, IReadOnlyDictionary<string, HashSet<string>> types)
    {
        var code = Strings().Replace(Comments().Replace(source, ""), "\"\"");
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match m in UsingDirective().Matches(code)) used.Add(m.Groups[1].Value);
        foreach (Match m in QualifiedName().Matches(code))
        {
            // Detection.Monitors.MonitorPusher, Fleet.NodeStore: a folder name, optional sub-namespaces, then a type declared there.
            var target = m.Groups[1].Value;
            if (types.TryGetValue(target, out var declared) && declared.Contains(m.Groups[2].Value)) used.Add(target);
        }

        used.Remove(folder);
        return used;
    }

    /// <summary>Type names declared under each top-level namespace of Medic.Server (one per folder).</summary>
    private static Dictionary<string, HashSet<string>> TypesByFolder()
    {
        var byFolder = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in typeof(MedicApp).Assembly.GetTypes())
        {
            if (type.Namespace is not { } ns || !ns.StartsWith("Medic.Server.", StringComparison.Ordinal)) continue;
            var parts = ns["Medic.Server.".Length..].Split('.');
            var name = type.Name.Split('`')[0];
            var set = byFolder.TryGetValue(parts[0], out var s) ? s : byFolder[parts[0]] = new HashSet<string>(StringComparer.Ordinal);
            set.Add(name);
            // Sub-namespaces (Detection.Monitors) are reached through the folder name too.
            foreach (var sub in parts.Skip(1)) set.Add(sub);
        }

        return byFolder;
    }

    private static List<string>? FindCycle(Dictionary<string, List<string>> edges)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 on the path, 2 done
        var path = new List<string>();

        List<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in edges.GetValueOrDefault(node) ?? [])
            {
                if (state.GetValueOrDefault(next) == 1) return [.. path.Skip(path.IndexOf(next)), next];
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found) return found;
            }

            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }

        foreach (var node in edges.Keys.Order(StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle) return cycle;
        }

        return null;
    }

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"@?\$?""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex Strings();

    [GeneratedRegex(@"^\s*using\s+(?:static\s+)?Medic\.Server\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"(?<![\w.])(?:Medic\.Server\.)?([A-Z]\w*)(?:\.[A-Z]\w*)*?\.([A-Z]\w*)\b")]
    private static partial Regex QualifiedName();
}
