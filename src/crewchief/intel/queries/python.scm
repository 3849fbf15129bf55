; Definitions: the captured node is the definition; its name is its `name` field.
(class_definition name: (identifier)) @def.class
(function_definition name: (identifier)) @def.function

; References: the captured node is the name used.
(call function: [(identifier) @ref.call (attribute attribute: (identifier) @ref.call)])
(decorator [(identifier) @ref.name (attribute attribute: (identifier) @ref.name)])
(argument_list (identifier) @ref.name)
(keyword_argument value: [(identifier) @ref.name (attribute attribute: (identifier) @ref.name)])
(import_from_statement
  name: [(dotted_name (identifier) @ref.import .)
         (aliased_import name: (dotted_name (identifier) @ref.import .))])
(type [(identifier) @ref.type (attribute attribute: (identifier) @ref.type)])
(generic_type (identifier) @ref.type)
(except_clause [(identifier) @ref.name (attribute attribute: (identifier) @ref.name)])
(raise_statement [(identifier) @ref.name (attribute attribute: (identifier) @ref.name)])
