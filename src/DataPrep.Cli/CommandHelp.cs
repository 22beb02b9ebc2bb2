using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace DataPrep.Cli;

/// <summary>A titled group of a command's options in its help, in the order a user thinks of them.</summary>
/// <param name="Title">The heading, e.g. "Split".</param>
/// <param name="Symbols">Arguments and options, the common ones first.</param>
internal sealed record HelpSection(string Title, IReadOnlyList<Symbol> Symbols);

/// <summary>
/// The help of <c>dataprep</c>: a short top-level help (each command on one line, one example each) and, for the
/// commands given a layout, options in titled sections instead of one long list. Names, value names and descriptions
/// come from the options themselves; commands without a layout keep System.CommandLine's own help.
/// </summary>
internal sealed class CommandHelp
{
    private readonly Dictionary<Command, (IReadOnlyList<HelpSection> Sections, string? Epilog)> _layouts = [];
    private readonly List<(Command Command, string Summary, string Example)> _commands = [];

    /// <summary>The title of the section holding options no section names (kept empty by a test).</summary>
    public const string OtherTitle = "Other options";

    /// <summary>Shows a command's options in sections, then <paramref name="epilog"/> (examples, output, exit codes).</summary>
    public void SetLayout(Command command, IReadOnlyList<HelpSection> sections, string? epilog = null) => _layouts[command] = (sections, epilog);

    /// <summary>Lists a command in the top-level help with a one-line summary and one example.</summary>
    public void AddCommand(Command command, string summary, string example) => _commands.Add((command, summary, example));

    /// <summary>The sections a command's help shows, with any option no section names under <see cref="OtherTitle"/>.</summary>
    public IReadOnlyList<HelpSection> SectionsOf(Command command)
    {
        var sections = _layouts[command].Sections.ToList();
        var placed = sections.SelectMany(s => s.Symbols).ToHashSet();
        var other = command.Options.Where(o => !o.Hidden && !placed.Contains(o)).Cast<Symbol>()
            .Concat(command.Arguments.Where(a => !a.Hidden && !placed.Contains(a))).ToList();
        if (other.Count > 0) sections.Add(new HelpSection(OtherTitle, other));
        return sections;
    }

    /// <summary>Makes <c>--help</c> on the root and on the commands with a layout write this help.</summary>
    public void Install(RootCommand root)
    {
        var option = root.Options.OfType<HelpOption>().Single();
        option.Action = new Action(this, option.Action);
    }

    private sealed class Action(CommandHelp help, CommandLineAction? fallback) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var command = parseResult.CommandResult.Command;
            var output = parseResult.InvocationConfiguration.Output;
            if (command is RootCommand root) help.WriteRoot(root, output);
            else if (help._layouts.ContainsKey(command)) help.Write(command, output);
            else if (fallback is SynchronousCommandLineAction sync) return sync.Invoke(parseResult);
            return 0;
        }
    }

    private void WriteRoot(RootCommand root, TextWriter output)
    {
        const string name = DataPrepCli.CommandName;
        output.WriteLine(root.Description);
        output.WriteLine();
        output.WriteLine("Usage:");
        output.WriteLine($"  {name} <command> [options]");
        output.WriteLine();
        output.WriteLine("Commands:");
        WriteRows(output, _commands.Select(c => (c.Command.Name, c.Summary)).ToList());
        output.WriteLine();
        output.WriteLine("Examples:");
        foreach (var (_, _, example) in _commands) output.WriteLine($"  {example}");
        output.WriteLine();
        output.WriteLine("Options:");
        WriteRows(output, root.Options.Where(o => !o.Hidden).Select(o => (Label(o), o.Description ?? "")).ToList());
        output.WriteLine();
        output.WriteLine($"Run '{name} <command> --help' for a command's options and more examples.");
    }

    private void Write(Command command, TextWriter output)
    {
        var (_, epilog) = _layouts[command];
        var root = command.Parents.OfType<RootCommand>().FirstOrDefault();
        output.WriteLine("Description:");
        output.WriteLine($"  {command.Description}");
        output.WriteLine();
        output.WriteLine("Usage:");
        string args = string.Concat(command.Arguments.Where(a => !a.Hidden).Select(a => $" <{a.Name}>{(a.Arity.MaximumNumberOfValues > 1 ? "..." : "")}"));
        output.WriteLine($"  {DataPrepCli.CommandName} {command.Name}{args} [options]");
        var sections = SectionsOf(command).Select(s => (s.Title, Rows: s.Symbols.Select(Row).ToList())).ToList();
        // The help option is inherited from the root: it closes the last section.
        if (root?.Options.OfType<HelpOption>().FirstOrDefault() is { } helpOption && sections.Count > 0) sections[^1].Rows.Add(Row(helpOption));
        int width = sections.SelectMany(s => s.Rows).Max(r => r.Label.Length);
        foreach (var (title, rows) in sections)
        {
            output.WriteLine();
            output.WriteLine($"{title}:");
            WriteRows(output, rows, width);
        }
        if (epilog is not null) output.WriteLine(epilog.TrimEnd());
    }

    private static (string Label, string Text) Row(Symbol symbol) => symbol switch
    {
        Option o => (Label(o), o.Description ?? ""),
        Argument a => ($"<{a.Name}>", a.Description ?? ""),
        _ => (symbol.Name, symbol.Description ?? ""),
    };

    /// <summary>"-o, --out &lt;out&gt; (REQUIRED)", as System.CommandLine writes an option's first column.</summary>
    private static string Label(Option o)
    {
        var names = o.Aliases.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Append(o.Name);
        string label = string.Join(", ", names);
        if (o.ValueType != typeof(bool) && o.Arity.MaximumNumberOfValues > 0)
        {
            label += $" <{o.HelpName ?? o.Name.TrimStart('-')}>{(o.Arity.MaximumNumberOfValues > 1 ? "..." : "")}";
        }
        return o.Required ? label + " (REQUIRED)" : label;
    }

    /// <summary>Two columns; a long first column puts its text on the next line; a text's own lines stay aligned.</summary>
    private static void WriteRows(TextWriter output, IReadOnlyList<(string Label, string Text)> rows, int width = 0)
    {
        const int MaxColumn = 40;
        if (width == 0) width = rows.Count == 0 ? 0 : rows.Max(r => r.Label.Length);
        width = Math.Min(width, MaxColumn);
        string pad = new(' ', 2 + width + 2);
        foreach (var (label, text) in rows)
        {
            var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
            if (label.Length > width)
            {
                output.WriteLine($"  {label}");
                output.WriteLine(pad + lines[0]);
            }
            else
            {
                output.WriteLine($"  {label.PadRight(width)}  {lines[0]}");
            }
            foreach (var line in lines.Skip(1)) output.WriteLine(pad + line);
        }
    }
}
