(class_heritage (identifier) @ref.name)
(class_heritage (member_expression property: (property_identifier) @ref.name))
