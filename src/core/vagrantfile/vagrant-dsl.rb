# Hangar's implementation of Vagrant's configuration API, evaluated by CRuby
# (ruby.wasm) before a Vagrantfile. It only *records* what the Vagrantfile
# does — every assignment, call and read, with its line — and hands the record
# to TypeScript as JSON, where merging and validation happen
# (src/core/vagrantfile/). Keeping the Ruby side a dumb recorder means the
# rules live in one typed, tested place.
require "json"
require "yaml"
require "stringio"
require "set"

module Hangar
  # Where in the Vagrantfile the current call happened (nil if not in it).
  def self.vagrantfile_line
    path = Thread.current[:hangar_vagrantfile]
    loc = caller_locations.find { |l| l.path == path }
    loc && loc.lineno
  end

  # Ruby values → JSON-safe values (symbols become strings, ranges "a..b").
  def self.plain(value)
    case value
    when nil, true, false, Integer, Float, String then value
    when Symbol then value.to_s
    when Array then value.map { |v| plain(v) }
    when Hash then value.each_with_object({}) { |(k, v), h| h[k.to_s] = plain(v) }
    when Recorder then value.to_record
    else value.to_s
    end
  end

  # Accepts any setting or call and remembers it in order. Namespaces
  # (config.vm, config.ssh, …), provider blocks and provisioner blocks are
  # Recorders; TypeScript decides which names are valid for each.
  class Recorder
    def initialize
      @settings = {}   # name => value (last assignment wins, as in Vagrant)
      @lines = {}      # name => line of the last assignment
      @calls = []      # [{name, args, line}] for method calls with arguments
      @reads = []      # [{name, line}] reads of names never assigned
    end

    def method_missing(name, *args, **kwargs, &block)
      key = name.to_s
      line = Hangar.vagrantfile_line
      if key.end_with?("=") && args.length == 1
        attr = key.chomp("=")
        @settings[attr] = args[0]
        @lines[attr] = line
        args[0]
      elsif args.empty? && kwargs.empty? && block.nil?
        return @settings[key] if @settings.key?(key)
        # Vagrant auto-vivifies hash-like settings (vmware's `v.vmx["memsize"] = ...`).
        @reads << { "name" => key, "line" => line }
        @settings[key] = {} if key == "vmx"
        @settings[key]
      else
        all = args.dup
        all << kwargs unless kwargs.empty?
        @calls << { "name" => key, "args" => all, "line" => line }
        nil
      end
    end

    def respond_to_missing?(_name, _include_private = false)
      true
    end

    def to_record
      {
        "settings" => Hangar.plain(@settings),
        "lines" => @lines,
        "calls" => Hangar.plain(@calls),
        "reads" => @reads,
      }
    end
  end

  # config.vm: the settings Recorder plus the structured calls Vagrant defines.
  class VmConfig < Recorder
    attr_reader :defines

    def initialize
      super
      @networks = []
      @synced_folders = []
      @provisioners = []
      @providers = []
      @defines = []
    end

    def define(name, options = {}, &block)
      @defines << { "name" => name.to_s, "options" => Hangar.plain(options), "block" => block, "line" => Hangar.vagrantfile_line }
      nil
    end

    def network(type, **options)
      @networks << { "type" => type.to_s, "options" => Hangar.plain(options), "line" => Hangar.vagrantfile_line }
      nil
    end

    def synced_folder(hostpath, guestpath, **options)
      @synced_folders << { "hostPath" => hostpath.to_s, "guestPath" => guestpath.to_s, "options" => Hangar.plain(options), "line" => Hangar.vagrantfile_line }
      nil
    end

    # provision "shell", inline: …  |  provision "name", type: "shell", …  |  block form.
    def provision(name, **options, &block)
      line = Hangar.vagrantfile_line
      recorder = Recorder.new
      block.call(recorder) if block
      @provisioners << { "name" => name.to_s, "options" => Hangar.plain(options), "block" => recorder.to_record, "line" => line }
      nil
    end

    # provider "virtualbox" do |vb, override| … end. `override` is a config
    # that applies only with that provider; it is recorded, not merged.
    def provider(name, **options, &block)
      line = Hangar.vagrantfile_line
      recorder = Recorder.new
      override = Root.new
      block.call(recorder, override) if block
      @providers << { "name" => name.to_s, "options" => Hangar.plain(options), "block" => recorder.to_record, "line" => line }
      nil
    end

    def to_record
      super.merge(
        "networks" => @networks,
        "syncedFolders" => @synced_folders,
        "provisioners" => @provisioners,
        "providers" => @providers,
        "defines" => @defines.map { |d| d.reject { |k, _| k == "block" } },
      )
    end
  end

  # config.trigger: `before`/`after` take the commands and a block that
  # configures the trigger. Vagrant runs the block at once (so its errors
  # surface); Hangar runs no triggers, so nothing is recorded.
  class TriggerConfig < Recorder
    def before(*_commands, **_options, &block)
      block&.call(Recorder.new)
      nil
    end

    def after(*_commands, **_options, &block)
      block&.call(Recorder.new)
      nil
    end
  end

  # The `config` object a configure block receives.
  class Root
    NAMESPACES = %w[vm ssh vagrant winrm winssh].freeze
    # Sections Vagrant itself provides (kernel_v2's trigger, push and package)
    # but Hangar has no use for: accepted, not recorded -- unlike plugin ones.
    IGNORED_CORE_SECTIONS = { "trigger" => TriggerConfig, "push" => Recorder, "package" => Recorder }.freeze

    def initialize
      @namespaces = { "vm" => VmConfig.new }
      @ignored = {}
      @unknown = []
    end

    NAMESPACES.each do |ns|
      define_method(ns) { @namespaces[ns] ||= Recorder.new }
    end

    IGNORED_CORE_SECTIONS.each do |ns, klass|
      define_method(ns) { @ignored[ns] ||= klass.new }
    end

    # Plugin namespaces (config.hostmanager, …) are recorded as unknown: without
    # the plugin Vagrant rejects them too.
    def method_missing(name, *args, **_kwargs, &_block)
      @unknown << { "name" => name.to_s.chomp("="), "line" => Hangar.vagrantfile_line }
      Recorder.new
    end

    def respond_to_missing?(_name, _include_private = false)
      true
    end

    def to_record
      record = @namespaces.transform_values(&:to_record)
      record["unknownSections"] = @unknown
      record
    end
  end

  # One Vagrantfile's evaluation: every configure block configures this root.
  class Evaluation
    attr_accessor :configure_line

    def root
      @root ||= Root.new
    end

    def root?
      !@root.nil?
    end
  end

  # Key of the host platform in the environment load-vagrantfile.ts sends.
  HOST_PLATFORM_KEY = "__HANGAR_HOST_PLATFORM__"

  # Runs one Vagrantfile and returns the JSON record. Errors come back as
  # {"error": {...}} rather than raised, so the host never sees a Ruby exception.
  def self.evaluate(source, path, env)
    Thread.current[:hangar_vagrantfile] = path
    evaluation = Evaluation.new
    Thread.current[:hangar_evaluation] = evaluation
    # The host's OS (Node's process.platform), for Vagrant::Util::Platform:
    # RUBY_PLATFORM is WebAssembly's. Passed beside the environment, not in it.
    Thread.current[:hangar_host_platform] = env.delete(HOST_PLATFORM_KEY) || "linux"
    ENV.replace(env)
    output = StringIO.new
    $stdout = output
    $stderr = output
    begin
      Dir.chdir(File.dirname(path)) do
        # A fresh anonymous module per evaluation: constants and methods the
        # Vagrantfile defines (VAGRANTFILE_API_VERSION, helpers) live there and
        # vanish afterwards, so the reused VM carries nothing over.
        scope = Module.new
        scope.extend(scope)
        scope.module_eval(source, path, 1)
      end
      global = evaluation.root
      defines = global.vm.defines
      machines = []
      order = []
      by_name = {}
      defines.each do |d|
        entry = by_name[d["name"]]
        unless entry
          entry = by_name[d["name"]] = { "name" => d["name"], "options" => {}, "blocks" => [], "line" => d["line"] }
          order << entry
        end
        entry["options"].merge!(d["options"])
        entry["blocks"] << d["block"] if d["block"]
      end
      order.each do |entry|
        root = Root.new
        entry["blocks"].each { |b| b.call(root) }
        machines << { "name" => entry["name"], "options" => entry["options"], "line" => entry["line"], "config" => root.to_record }
      end
      JSON.generate({
        "global" => global.to_record,
        "machines" => machines,
        "configureLine" => evaluation.configure_line,
        "output" => output.string,
      })
    rescue ScriptError, StandardError, SystemExit => e
      JSON.generate({ "error" => describe_error(e, path), "output" => output.string })
    ensure
      $stdout = STDOUT
      $stderr = STDERR
      Thread.current[:hangar_evaluation] = nil
    end
  end

  def self.describe_error(e, path)
    line = nil
    message = e.message.to_s
    if e.is_a?(SyntaxError)
      m = message.match(/#{Regexp.escape(path)}:(\d+):/)
      line = m && m[1].to_i
      message = message.sub(/\A.*?#{Regexp.escape(path)}:\d+: /m, "").sub(/\s*\(SyntaxError\)\s*\z/, "")
    else
      loc = (e.backtrace_locations || []).find { |l| l.path == path }
      line = loc && loc.lineno
      # The Vagrantfile runs inside an anonymous module (see evaluate): hide that detail.
      message = message.sub(/ for (module )?#<Module:0x\h+>/, "").sub(/ for main:Object/, "")
    end
    { "message" => message.strip, "class" => e.class.name, "line" => line }
  end
end

module Vagrant
  VERSION = "2.4.1"

  class VagrantError < StandardError; end

  module Errors
    VagrantError = ::Vagrant::VagrantError
  end

  # Vagrant.configure("2") do |config| … end. Every configure block in one
  # Vagrantfile configures the same root, as with Vagrant.
  def self.configure(version = "2", &block)
    unless %w[1 2].include?(version.to_s)
      raise ArgumentError, "Unknown configuration version #{version.inspect}: use Vagrant.configure(\"2\")."
    end
    evaluation = Thread.current[:hangar_evaluation] or raise "Vagrant.configure called outside a Vagrantfile"
    evaluation.configure_line ||= Hangar.vagrantfile_line
    root = evaluation.root
    block.call(root) if block
    root
  end

  # Plugins cannot be installed into Hangar: code guarded by this is skipped.
  def self.has_plugin?(_name, _version = nil)
    false
  end

  # Checked at once, as Vagrant does: a Vagrantfile for a newer Vagrant stops here.
  def self.require_version(*requirements)
    return nil if version?(*requirements)
    raise VagrantError, "This Vagrantfile requires Vagrant #{requirements.join(", ")}; Hangar implements the configuration of Vagrant #{VERSION}."
  end

  def self.version?(*requirements)
    Gem::Requirement.new(*requirements).satisfied_by?(Gem::Version.new(VERSION))
  end

  module Util
    # Answers for the host Hangar runs on (see HOST_PLATFORM_KEY), as Vagrant's
    # do for the host Vagrant runs on.
    module Platform
      def self.windows? = Thread.current[:hangar_host_platform] == "win32"
      def self.darwin? = Thread.current[:hangar_host_platform] == "darwin"
      def self.linux? = Thread.current[:hangar_host_platform] == "linux"
    end
  end
end
