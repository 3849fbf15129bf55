(function_item name: (identifier)) @def.function
(function_signature_item name: (identifier)) @def.function
(struct_item name: (type_identifier)) @def.struct
(union_item name: (type_identifier)) @def.struct
(enum_item name: (type_identifier)) @def.enum
(trait_item name: (type_identifier)) @def.trait
(type_item name: (type_identifier)) @def.type
(macro_definition name: (identifier)) @def.macro
(mod_item name: (identifier) body: (declaration_list)) @def.module
; An impl block names its members (Type.method) without being a definition itself.
(impl_item) @scope.impl

(call_expression
  function: [(identifier) @ref.call
             (field_expression field: (field_identifier) @ref.call)
             (scoped_identifier name: (identifier) @ref.call)
             (generic_function function: (identifier) @ref.call)
             (generic_function function: (scoped_identifier name: (identifier) @ref.call))])
(macro_invocation macro: (identifier) @ref.call)
(type_identifier) @ref.type
(use_declaration argument: (scoped_identifier name: (identifier) @ref.import))
(use_declaration argument: (identifier) @ref.import)
(use_list (identifier) @ref.import)
(use_list (scoped_identifier name: (identifier) @ref.import))
(use_as_clause path: (scoped_identifier name: (identifier) @ref.import))
(arguments (identifier) @ref.name)
