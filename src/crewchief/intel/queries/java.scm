(class_declaration name: (identifier)) @def.class
(record_declaration name: (identifier)) @def.class
(interface_declaration name: (identifier)) @def.interface
(annotation_type_declaration name: (identifier)) @def.interface
(enum_declaration name: (identifier)) @def.enum
(method_declaration name: (identifier)) @def.method
(constructor_declaration name: (identifier)) @def.method

(method_invocation name: (identifier) @ref.call)
(object_creation_expression type: (type_identifier) @ref.call)
(object_creation_expression type: (generic_type (type_identifier) @ref.call))
(type_identifier) @ref.type
(import_declaration (scoped_identifier name: (identifier) @ref.import))
(argument_list (identifier) @ref.name)
(method_reference (identifier) @ref.name .)
